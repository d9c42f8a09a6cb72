"""What the dashboard needs, from the environment: the session-signing secret, cookie flags, refresh pace,
how many sessions a user may hold, and from the policy: the promise grace, the aging buckets."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from reminder_pipeline.collections.sessions import SESSIONS_PER_USER
from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.policy.config import Policy
from reminder_pipeline.core.yaml_config import ConfigError
from reminder_pipeline.listening.handlers import POLICY_ENV

SESSION_SECRET_ENV = "REMINDERS_SESSION_SECRET"  # noqa: S105 (a variable name)
COOKIE_SECURE_ENV = "REMINDERS_COOKIE_SECURE"
REFRESH_ENV = "REMINDERS_DASHBOARD_REFRESH_SECONDS"
SESSIONS_PER_USER_ENV = "REMINDERS_SESSIONS_PER_USER"
log = logging.getLogger("reminder_pipeline.web.dashboard")


@dataclass(frozen=True)
class DashboardSettings:
    session_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    """Signs session cookies and keys the login brake's digests; made at random when not set (sessions then
    end, and the brake forgets, when the server restarts)."""
    cookie_secure: bool = True
    """Send cookies over HTTPS only; off for a plain-HTTP loopback (the demo, tests)."""
    session_hours: float = 12.0
    """How long a session lasts from its login (its cookie and its row in the ledger)."""
    sessions_per_user: int = SESSIONS_PER_USER
    """Open sessions a user may hold; a login past it ends their oldest."""
    poll_seconds: float = 1.0
    """How often the ledger's inbox, delivery events, replies and actions are looked at (by primary key)."""
    full_seconds: float = 300.0
    """How often everything is reloaded."""
    stream_seconds: float = 25.0
    """How long one server-sent-event response lasts before the browser reconnects."""
    session_check_seconds: float = 1.0
    """How often an open live stream's session is looked up again, so that the stream ends soon after its
    session (one query for all the streams of a process, see :mod:`reminder_pipeline.web.dashboard.watch`)."""
    promise_grace_days: int = 3
    """Days after a promised date before the promise counts as broken: the policy's, as the plan waits."""
    aging_edges: tuple[int, ...] = field(default_factory=lambda: _aging_edges(load_policy()))
    """Days overdue that end each aging bucket of the overview: the policy's (the shipped one's by default),
    as the segments and the ingestion summary have them."""
    login_failures_per_user: int = 5
    login_failures_per_address: int = 30
    login_window_seconds: float = 900.0
    """Failed logins past either count within this window are answered 429 until the oldest ages out."""

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, public_url: str | None = None
    ) -> DashboardSettings:
        env = os.environ if environ is None else environ
        secret = env.get(SESSION_SECRET_ENV, "").strip()
        if not secret:
            log.warning("%s is not set: sessions end when the server restarts", SESSION_SECRET_ENV)
        flag = env.get(COOKIE_SECURE_ENV, "").strip().lower()
        secure = flag in {"1", "true", "yes"} if flag else bool(public_url and public_url.startswith("https://"))
        refresh = float(env.get(REFRESH_ENV) or 300)
        policy = load_policy(env.get(POLICY_ENV) or None)
        settings = cls(
            cookie_secure=secure,
            full_seconds=refresh,
            promise_grace_days=policy.contact.promise_grace_days,
            aging_edges=_aging_edges(policy),
            sessions_per_user=_sessions_per_user(env.get(SESSIONS_PER_USER_ENV, "").strip()),
        )
        return replace(settings, session_secret=secret) if secret else settings


def _aging_edges(policy: Policy) -> tuple[int, ...]:
    return tuple(policy.segmentation.aging_edges)


def _sessions_per_user(value: str) -> int:
    if not value:
        return SESSIONS_PER_USER
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise ConfigError(f"{SESSIONS_PER_USER_ENV} must be a whole number of at least 1, not {value!r}")
    return int(value)
