"""Dashboard users: argon2id password hashes (argon2-cffi), roles, and the check at login."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, CursorResult, insert, select, update

from reminder_pipeline.ledger.schema import users
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
    """A new user with ``password`` hashed (argon2id); UserProblem when the name is taken or unusable."""
    _check(username, password)
    hashed = _HASHER.hash(password)
    with ledger.begin_write(USERS_LOCK) as connection:
        taken = connection.execute(select(users.c.user_id).where(users.c.username == username)).first()
        if taken is not None:
            raise UserProblem(f"a user named {username!r} exists already: choose another name")
        row = connection.execute(insert(users).values(username=username, password_hash=hashed, role=role.value))
        user_id = _new_id(row)
    return User(user_id, username, role)


def set_password(ledger: Ledger, username: str, password: str) -> bool:
    _check(username, password)
    with ledger.begin_write(USERS_LOCK) as connection:
        changed = connection.execute(
            update(users).where(users.c.username == username).values(password_hash=_HASHER.hash(password))
        ).rowcount
    return bool(changed)


def authenticate(ledger: Ledger, username: str, password: str) -> User | None:
    """The user when the password is theirs and they are not disabled; None otherwise (same work either way)."""
    with ledger.begin() as connection:
        row = connection.execute(
            select(users.c.user_id, users.c.username, users.c.role, users.c.password_hash).where(
                users.c.username == username, users.c.disabled_at.is_(None)
            )
        ).one_or_none()
    try:
        _HASHER.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    return User(int(row.user_id), str(row.username), Role(row.role))


def active_user(connection: Connection, user_id: int) -> User | None:
    """The user behind a session, unless they were disabled or deleted since it began."""
    row = connection.execute(
        select(users.c.user_id, users.c.username, users.c.role).where(
            users.c.user_id == user_id, users.c.disabled_at.is_(None)
        )
    ).one_or_none()
    return None if row is None else User(int(row.user_id), str(row.username), Role(row.role))


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])
