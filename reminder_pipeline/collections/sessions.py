"""Dashboard sessions kept in the ledger, so that every ``reminders serve`` process sees the same ones.

A session is a row of ``dashboard_sessions`` keyed by the SHA-256 of a random id (the id itself lives
only in the user's signed cookie). It opens the dashboard while the row is not ended, not expired, and
its user not disabled: one lookup by primary key, joined to the user for their current role. A logout
ends the row; a change of password or role, and disabling the user, end every row of theirs (in the
transaction that makes the change, see :mod:`reminder_pipeline.collections.users`). A user has at most
``SESSIONS_PER_USER`` open sessions (configurable): a login past it ends their oldest. Expired rows are
deleted when the next session starts. Times are UTC.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, Select, delete, insert, select, update

from reminder_pipeline.ledger.schema import dashboard_sessions, users
from reminder_pipeline.ledger.store import Ledger

SESSIONS_LOCK = "dashboard_sessions"
TOUCH_EVERY = timedelta(minutes=5)
"""``last_seen_at`` is written at most this often per session (a request otherwise only reads)."""
SESSIONS_PER_USER = 10
"""Open sessions a user may hold (a laptop, a phone, a few browsers and private windows); a login past it
ends the oldest, so cookies left on machines nobody uses any more do not stay valid for ever-more logins."""


class SessionEnd(StrEnum):
    """Why a session ended (``dashboard_sessions.ended_reason``)."""

    LOGOUT = "logout"
    PASSWORD = "password_changed"  # noqa: S105 (a reason, not a password)
    ROLE = "role_changed"
    DISABLED = "disabled"
    REPLACED = "new_login"
    """The browser that held it logged in again (as anyone): a copy of the old cookie opens nothing."""
    TOO_MANY = "session_limit"
    """Its user logged in again with ``SESSIONS_PER_USER`` sessions open, and it was the oldest."""


@dataclass(frozen=True)
class OpenSession:
    digest: str
    user_id: int
    username: str
    role: str
    last_seen: datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A moment read back from the ledger (naive on SQLite, where it was written as UTC) as aware UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def digest_of(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def new_session(connection: Connection, user_id: int, now: datetime, lifetime: timedelta) -> str:
    """Start a session of ``user_id`` (inside the caller's write transaction): its id, to put in the
    cookie. Rows that expired before ``now`` are deleted on the way."""
    now = as_utc(now)
    connection.execute(delete(dashboard_sessions).where(dashboard_sessions.c.expires_at < now))
    session_id = secrets.token_urlsafe(32)
    connection.execute(
        insert(dashboard_sessions).values(
            session_digest=digest_of(session_id),
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    return session_id


def end_oldest_sessions(connection: Connection, user_id: int, newest: str, keep: int, now: datetime) -> int:
    """End the oldest open sessions of ``user_id`` so that ``keep`` stay open, the session ``newest`` (a
    digest, the one just started) always among them (inside the caller's write transaction): how many
    ended. Oldest by login, then by last use."""
    now = as_utc(now)
    s = dashboard_sessions.c
    beyond = (
        select(s.session_digest)
        .where(s.user_id == user_id, s.ended_at.is_(None), s.expires_at > now, s.session_digest != newest)
        .order_by(s.created_at.desc(), s.last_seen_at.desc(), s.session_digest)
        .offset(max(keep - 1, 0))
    )
    digests = list(connection.execute(beyond).scalars())
    if not digests:
        return 0
    connection.execute(
        update(dashboard_sessions)
        .where(s.session_digest.in_(digests), s.ended_at.is_(None))
        .values(ended_at=now, ended_reason=SessionEnd.TOO_MANY.value)
    )
    return len(digests)


def _open_rows(*columns: Any) -> Select[Any]:
    """``columns`` of the sessions not ended whose user is active (their expiry is the caller's to check)."""
    s = dashboard_sessions.c
    return (
        select(*columns)
        .join(users, users.c.user_id == s.user_id)
        .where(s.ended_at.is_(None), users.c.disabled_at.is_(None))
    )


def _open_query(digest: str) -> Select[Any]:
    s = dashboard_sessions.c
    columns = (s.session_digest, s.last_seen_at, users.c.user_id, users.c.username, users.c.role)
    return _open_rows(*columns).where(s.session_digest == digest)


def _found(row: Row[Any] | None) -> OpenSession | None:
    if row is None:
        return None
    return OpenSession(
        str(row.session_digest), int(row.user_id), str(row.username), str(row.role), as_utc(row.last_seen_at)
    )


def find_session(connection: Connection, session_id: str, now: datetime) -> OpenSession | None:
    """The open session of ``session_id`` with its user as they are now; None when it is unknown, ended,
    expired, or its user disabled. One lookup by primary key."""
    query = _open_query(digest_of(session_id)).where(dashboard_sessions.c.expires_at > as_utc(now))
    return _found(connection.execute(query).one_or_none())


def open_among(connection: Connection, digests: Collection[str], now: datetime) -> set[str]:
    """Those of the session ``digests`` still open at ``now`` (not ended, not expired, the user active):
    a query by primary key per 500."""
    s = dashboard_sessions.c
    ordered = sorted(digests)
    found: set[str] = set()
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        query = _open_rows(s.session_digest).where(s.session_digest.in_(chunk), s.expires_at > as_utc(now))
        found.update(str(digest) for digest in connection.execute(query).scalars())
    return found


def hold_session(connection: Connection, digest: str) -> OpenSession | None:
    """The session ``digest`` with its user as they are now, when it is still open and the user active, its
    row held until the caller's write transaction ends (``FOR SHARE`` on PostgreSQL; SQLite's write lock
    holds the whole ledger): a logout, or a change of the user's password, role or state — which end the
    row — either waits for that transaction or is seen by it, so nothing written in it outlives them.
    Its expiry was checked when the request began (by :func:`find_session`)."""
    query = _open_query(digest).with_for_update(read=True, of=dashboard_sessions)
    return _found(connection.execute(query).one_or_none())


def touch(ledger: Ledger, session: OpenSession, now: datetime) -> None:
    """Note that ``session`` was used, when it was last noted more than ``TOUCH_EVERY`` ago."""
    now = as_utc(now)
    if now - session.last_seen < TOUCH_EVERY:
        return
    with ledger.begin_write(SESSIONS_LOCK) as connection:
        connection.execute(
            update(dashboard_sessions)
            .where(dashboard_sessions.c.session_digest == session.digest, dashboard_sessions.c.ended_at.is_(None))
            .values(last_seen_at=now)
        )


def end_session(ledger: Ledger, digest: str, now: datetime, reason: SessionEnd = SessionEnd.LOGOUT) -> None:
    """End one session (a logout): its cookie no longer opens the dashboard in any process."""
    with ledger.begin_write(SESSIONS_LOCK) as connection:
        end_digest(connection, digest, now, reason)


def end_digest(connection: Connection, digest: str, now: datetime, reason: SessionEnd) -> None:
    """End the session ``digest`` if it is open (inside the caller's transaction)."""
    connection.execute(
        update(dashboard_sessions)
        .where(dashboard_sessions.c.session_digest == digest, dashboard_sessions.c.ended_at.is_(None))
        .values(ended_at=as_utc(now), ended_reason=reason.value)
    )


def end_user_sessions(connection: Connection, user_id: int, now: datetime, reason: SessionEnd) -> int:
    """End every open session of ``user_id`` (inside the caller's transaction): how many."""
    result = connection.execute(
        update(dashboard_sessions)
        .where(dashboard_sessions.c.user_id == user_id, dashboard_sessions.c.ended_at.is_(None))
        .values(ended_at=as_utc(now), ended_reason=reason.value)
    )
    return int(result.rowcount)
