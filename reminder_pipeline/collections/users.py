"""Dashboard users: argon2id password hashes (argon2-cffi), roles, the check at login, and the changes
to a user (password, role, disabling) that end every session of theirs in the same transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, and_, func, insert, select, update

from reminder_pipeline.collections.sessions import (
    SESSIONS_PER_USER,
    SessionEnd,
    as_utc,
    digest_of,
    end_digest,
    end_oldest_sessions,
    end_user_sessions,
    new_session,
    utc_now,
)
from reminder_pipeline.ledger.schema import dashboard_sessions, users
from reminder_pipeline.ledger.store import Ledger

USERS_LOCK = "dashboard_users"
USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
MIN_PASSWORD = 10
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("not a password anyone has")


class Role(StrEnum):
    VIEWER = "viewer"
    """Reads every page; acts on nothing."""
    COLLECTOR = "collector"
    """Reads, and acts on customers (pause, resume, dispute, promise, call)."""
    ADMIN = "admin"
    """A collector who also manages users."""

    @property
    def can_act(self) -> bool:
        return self is not Role.VIEWER


@dataclass(frozen=True)
class User:
    user_id: int
    username: str
    role: Role


class UserProblem(ValueError):
    """A user that cannot be created as asked (the message says what to change)."""


def _check(username: str, password: str) -> None:
    if not USERNAME.match(username):
        raise UserProblem("a username is 1 to 64 letters, digits or . _ @ -")
    if len(password) < MIN_PASSWORD:
        raise UserProblem(f"a password needs at least {MIN_PASSWORD} characters")


def add_user(ledger: Ledger, username: str, password: str, role: Role) -> User:
    """A new user with ``password`` hashed (argon2id); UserProblem when the name is taken or unusable.

    A name is taken in any case ("Cora" when there is a "cora"): the login brake counts a username in
    lower case, and a good login clears that count, so a user named like another but for case could
    otherwise clear the other's failures and guess their password without end."""
    _check(username, password)
    hashed = _HASHER.hash(password)
    with ledger.begin_write(USERS_LOCK) as connection:
        same = func.lower(users.c.username) == username.lower()
        taken = connection.execute(select(users.c.user_id).where(same)).first()
        if taken is not None:
            raise UserProblem(f"a user named {username!r} exists already: choose another name")
        row = connection.execute(insert(users).values(username=username, password_hash=hashed, role=role.value))
        user_id = _new_id(row)
    return User(user_id, username, role)


def _change(ledger: Ledger, username: str, values: dict[str, Any], reason: SessionEnd, now: datetime) -> int | None:
    """Write ``values`` on ``username``'s row and end all their sessions, in one transaction: how many
    sessions ended; None when there is no such user."""
    with ledger.begin_write(USERS_LOCK) as connection:
        user_id = connection.execute(select(users.c.user_id).where(users.c.username == username)).scalar_one_or_none()
        if user_id is None:
            return None
        connection.execute(update(users).where(users.c.user_id == user_id).values(**values))
        return end_user_sessions(connection, int(user_id), now, reason)


def set_password(ledger: Ledger, username: str, password: str, now: datetime | None = None) -> int | None:
    """A new password for ``username``; every session of theirs ends (how many; None: no such user)."""
    _check(username, password)
    values = {"password_hash": _HASHER.hash(password)}
    return _change(ledger, username, values, SessionEnd.PASSWORD, now or utc_now())


def set_role(ledger: Ledger, username: str, role: Role, now: datetime | None = None) -> int | None:
    """Give ``username`` ``role``; every session of theirs ends, so none acts with the role it began with
    (how many ended; None: no such user)."""
    return _change(ledger, username, {"role": role.value}, SessionEnd.ROLE, now or utc_now())


def disable_user(ledger: Ledger, username: str, now: datetime | None = None) -> int | None:
    """Refuse ``username``'s logins from now on and end every session of theirs (how many; None: no such
    user). Disabling a disabled user keeps the first moment."""
    moment = now or utc_now()
    with ledger.begin_write(USERS_LOCK) as connection:
        row = connection.execute(
            select(users.c.user_id, users.c.disabled_at).where(users.c.username == username)
        ).one_or_none()
        if row is None:
            return None
        if row.disabled_at is None:
            connection.execute(update(users).where(users.c.user_id == row.user_id).values(disabled_at=moment))
        return end_user_sessions(connection, int(row.user_id), moment, SessionEnd.DISABLED)


def enable_user(ledger: Ledger, username: str) -> bool:
    """Let a disabled user log in again (their old sessions stay ended); False: no such user."""
    with ledger.begin_write(USERS_LOCK) as connection:
        changed = connection.execute(update(users).where(users.c.username == username).values(disabled_at=None))
        return bool(changed.rowcount)


def _verified(ledger: Ledger, username: str, password: str) -> tuple[User, str] | None:
    """The user and the hash their password matched, when it is theirs and they are not disabled. A name no
    user can have (a NUL, which PostgreSQL refuses to compare, a space, 65 characters) is not looked up,
    but its password is checked all the same, against a hash no password matches."""
    if not USERNAME.match(username):
        _verify(_DUMMY_HASH, password)
        return None
    with ledger.begin() as connection:
        row = connection.execute(
            select(users.c.user_id, users.c.username, users.c.role, users.c.password_hash).where(
                users.c.username == username, users.c.disabled_at.is_(None)
            )
        ).one_or_none()
    if not _verify(row.password_hash if row is not None else _DUMMY_HASH, password) or row is None:
        return None
    return User(int(row.user_id), str(row.username), Role(row.role)), str(row.password_hash)


def _verify(hashed: str, password: str) -> bool:
    try:
        return bool(_HASHER.verify(hashed, password))
    except (VerificationError, InvalidHashError):
        return False


def authenticate(ledger: Ledger, username: str, password: str) -> User | None:
    """The user when the password is theirs and they are not disabled; None otherwise (same work either way)."""
    found = _verified(ledger, username, password)
    return None if found is None else found[0]


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_id: str
    """The new session's random id, for the cookie (the ledger keeps only its digest)."""


def sign_in(
    ledger: Ledger,
    username: str,
    password: str,
    now: datetime,
    lifetime: timedelta,
    replacing: str | None = None,
    sessions_per_user: int = SESSIONS_PER_USER,
) -> SignedIn | None:
    """Check the password and start a session; None when the password is wrong or the user disabled.
    ``replacing``: the digest of the session the browser held before, ended with the new one's start
    (a login never leaves the session it came with open, whoever it belonged to). The user's oldest
    sessions past ``sessions_per_user`` (the new one counted) end in the same transaction.

    The password is checked outside any lock; the session is written under the users' lock only if the
    user's password, role and state are still the ones checked, so a change made meanwhile (which ends
    the user's sessions under the same lock) cannot be outlived by a session it did not see."""
    found = _verified(ledger, username, password)
    if found is None:
        return None
    user, checked_hash = found
    with ledger.begin_write(USERS_LOCK) as connection:
        row = connection.execute(
            select(users.c.role, users.c.password_hash).where(
                users.c.user_id == user.user_id, users.c.disabled_at.is_(None)
            )
        ).one_or_none()
        if row is None or row.password_hash != checked_hash or row.role != user.role.value:
            return None
        if replacing is not None:
            end_digest(connection, replacing, now, SessionEnd.REPLACED)
        session_id = new_session(connection, user.user_id, now, lifetime)
        end_oldest_sessions(connection, user.user_id, digest_of(session_id), sessions_per_user, now)
        connection.execute(update(users).where(users.c.user_id == user.user_id).values(last_login_at=as_utc(now)))
        return SignedIn(user, session_id)


@dataclass(frozen=True)
class UserListing:
    """A user as ``reminders users list`` shows them: never their password hash."""

    username: str
    role: Role
    created_at: datetime
    disabled_at: datetime | None
    last_login_at: datetime | None
    """None: not logged in since the ledger began to keep it (migration 0010), and no session of theirs left."""
    open_sessions: int

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None


def list_users(ledger: Ledger, now: datetime | None = None) -> list[UserListing]:
    """Every dashboard user by name, with how many sessions of theirs are open (not ended, not expired) at
    ``now``: one query, the sessions counted through their user index."""
    moment = as_utc(now or utc_now())
    s = dashboard_sessions.c
    is_open = and_(s.user_id == users.c.user_id, s.ended_at.is_(None), s.expires_at > moment)
    open_sessions = select(func.count()).where(is_open).scalar_subquery()
    query = select(
        users.c.username,
        users.c.role,
        users.c.created_at,
        users.c.disabled_at,
        users.c.last_login_at,
        open_sessions.label("open_sessions"),
    ).order_by(users.c.username)
    with ledger.begin() as connection:
        rows = connection.execute(query).all()
    return [
        UserListing(
            str(row.username),
            Role(row.role),
            as_utc(row.created_at),
            None if row.disabled_at is None else as_utc(row.disabled_at),
            None if row.last_login_at is None else as_utc(row.last_login_at),
            int(row.open_sessions),
        )
        for row in rows
    ]


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])
