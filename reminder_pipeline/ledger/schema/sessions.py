"""Ledger tables of the dashboard's sessions and its login brake (migration 0008), shared by every
``reminders serve`` process on the ledger.

- ``dashboard_sessions``: one row per login. The cookie carries a random session id; the row keeps only
  its SHA-256 (``session_digest``), so the table opens no session by itself. A session opens the
  dashboard while its row is not ended, not expired and its user is active. ``ended_at`` and
  ``ended_reason`` (a :class:`~reminder_pipeline.collections.sessions.SessionEnd`) are set by a logout
  and, for every session of the user, by a change of password or role and by disabling them; for their
  oldest, by a login past the sessions a user may hold. Expired rows are deleted at the next login.
- ``login_failures``: one row per failed (or still running) login attempt, under a keyed digest of
  the username and another of the client address (neither kept in clear); rows older than the
  brake's window are deleted as new attempts come.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Table

from reminder_pipeline.ledger.schema.base import metadata
from reminder_pipeline.ledger.schema.collections import users


def _at(name: str, *, nullable: bool = False) -> Column:
    return Column(name, DateTime(timezone=True), nullable=nullable)


dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("session_digest", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey(users.c.user_id), nullable=False),
    _at("created_at"),
    _at("last_seen_at"),
    _at("expires_at"),
    _at("ended_at", nullable=True),
    Column("ended_reason", String(16)),
)
Index("ix_dashboard_sessions_user", dashboard_sessions.c.user_id, dashboard_sessions.c.ended_at)
Index("ix_dashboard_sessions_expires", dashboard_sessions.c.expires_at)

login_failures = Table(
    "login_failures",
    metadata,
    Column("failure_id", Integer, primary_key=True, autoincrement=True),
    Column("key_digest", String(64), nullable=False),
    _at("failed_at"),
)
Index("ix_login_failures_key", login_failures.c.key_digest, login_failures.c.failed_at)
Index("ix_login_failures_failed_at", login_failures.c.failed_at)
