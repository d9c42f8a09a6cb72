"""Dashboard sessions in the ledger: what a row keeps, when it stops opening the dashboard, and the changes
to a user that end every session of theirs. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from reminder_pipeline.collections import users as accounts
from reminder_pipeline.collections.sessions import (
    SESSIONS_PER_USER,
    SessionEnd,
    digest_of,
    end_session,
    find_session,
    hold_session,
    touch,
)
from reminder_pipeline.collections.users import Role, add_user, disable_user, set_password, set_role, sign_in
from reminder_pipeline.core.outbox import OUTBOX_LOCK
from reminder_pipeline.ledger.schema import dashboard_sessions
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline_tests.web.dashboard.conftest import CHEAP_HASHER

NOW = datetime(2026, 3, 10, 9, tzinfo=UTC)
HOURS = timedelta(hours=12)
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_HASHER", CHEAP_HASHER)


def _open(ledger: Ledger, session_id: str, now: datetime = NOW) -> str | None:
    with ledger.begin() as connection:
        found = find_session(connection, session_id, now)
    return None if found is None else f"{found.username} ({found.role})"


def _reasons(ledger: Ledger) -> list[str | None]:
    with ledger.begin() as connection:
        return list(connection.execute(select(dashboard_sessions.c.ended_reason)).scalars())


def test_a_session_keeps_only_the_digest_of_its_id_and_lasts_until_it_expires(ledger: Ledger) -> None:
    add_user(ledger, "cora", PASSWORD, Role.COLLECTOR)
    assert sign_in(ledger, "cora", "wrong password!", NOW, HOURS) is None
    signed_in = sign_in(ledger, "cora", PASSWORD, NOW, HOURS)
    assert signed_in is not None
    with ledger.begin() as connection:
        row = connection.execute(select(dashboard_sessions)).one()
    assert signed_in.session_id not in " ".join(str(value) for value in row)
    assert _open(ledger, signed_in.session_id) == "cora (collector)"
    assert _open(ledger, signed_in.session_id, NOW + HOURS - timedelta(seconds=1)) == "cora (collector)"
    assert _open(ledger, signed_in.session_id, NOW + HOURS) is None
    assert _open(ledger, signed_in.session_id + "x") is None


def test_a_logout_ends_one_session_and_last_seen_is_written_seldom(ledger: Ledger) -> None:
    add_user(ledger, "cora", PASSWORD, Role.COLLECTOR)
    first, second = (sign_in(ledger, "cora", PASSWORD, NOW, HOURS) for _ in range(2))
    assert first is not None
    assert second is not None
    with ledger.begin() as connection:
        found = find_session(connection, first.session_id, NOW)
    assert found is not None
    touch(ledger, found, NOW + timedelta(minutes=1))
    touch(ledger, found, NOW + timedelta(minutes=6))
    with ledger.begin() as connection:
        found = find_session(connection, first.session_id, NOW)
    assert found is not None
    assert found.last_seen == NOW + timedelta(minutes=6)
    end_session(ledger, found.digest, NOW)
    assert _open(ledger, first.session_id) is None
    assert _open(ledger, second.session_id) == "cora (collector)"
    assert sorted(_reasons(ledger), key=str) == [None, SessionEnd.LOGOUT.value]


def test_a_new_password_a_new_role_and_disabling_each_end_all_the_users_sessions(ledger: Ledger) -> None:
    add_user(ledger, "cora", PASSWORD, Role.COLLECTOR)
    add_user(ledger, "ada", PASSWORD, Role.ADMIN)
    ada = sign_in(ledger, "ada", PASSWORD, NOW, HOURS)
    assert ada is not None
    changes = [
        (lambda: set_password(ledger, "cora", "another passphrase"), "another passphrase", SessionEnd.PASSWORD),
        (lambda: set_role(ledger, "cora", Role.VIEWER), "another passphrase", SessionEnd.ROLE),
        (lambda: disable_user(ledger, "cora"), "another passphrase", SessionEnd.DISABLED),
    ]
    password = PASSWORD
    for change, next_password, reason in changes:
        sessions = [sign_in(ledger, "cora", password, NOW, HOURS) for _ in range(2)]
        assert all(s is not None for s in sessions)
        assert change() == 2
        assert [_open(ledger, s.session_id) for s in sessions if s is not None] == [None, None], reason
        assert _reasons(ledger).count(reason.value) == 2
        password = next_password
    assert sign_in(ledger, "cora", password, NOW, HOURS) is None, "disabled"
    assert _open(ledger, ada.session_id) == "ada (admin)"
    assert set_role(ledger, "nobody", Role.ADMIN) is None


def test_a_login_checked_before_a_password_change_does_not_outlive_it(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The password is checked outside the lock: a change made between the check and the session's row
    (which ends the sessions it sees) must not leave a session behind that it could not see."""
    add_user(ledger, "cora", PASSWORD, Role.COLLECTOR)
    checked = accounts._verified

    def change_meanwhile(*args: str) -> tuple[accounts.User, str] | None:
        found = checked(ledger, *args)
        set_password(ledger, "cora", "changed meanwhile")
        return found

    monkeypatch.setattr(accounts, "_verified", lambda _ledger, *args: change_meanwhile(*args))
    assert sign_in(ledger, "cora", PASSWORD, NOW, HOURS) is None
    with ledger.begin() as connection:
        assert connection.execute(select(dashboard_sessions)).all() == []


def test_a_change_of_the_user_waits_for_a_transaction_holding_their_session(ledger: Ledger) -> None:
    """An action holds its session's row (``hold_session``) in its own transaction: a role change made
    meanwhile waits for it (PostgreSQL: the row's share lock; SQLite: the write lock), so either the action
    is written before the change or it sees the session ended, never the old role after the change."""
    add_user(ledger, "cora", PASSWORD, Role.COLLECTOR)
    signed_in = sign_in(ledger, "cora", PASSWORD, NOW, HOURS)
    assert signed_in is not None
    ended: list[int | None] = []
    change = threading.Thread(target=lambda: ended.append(set_role(ledger, "cora", Role.VIEWER)))
    with ledger.begin_write(OUTBOX_LOCK) as connection:
        held = hold_session(connection, digest_of(signed_in.session_id))
        assert held is not None
        assert held.role == Role.COLLECTOR.value
        change.start()
        time.sleep(0.5)
        assert change.is_alive(), "the change waits for the transaction holding the session"
    change.join(timeout=30)
    assert ended == [1]
    with ledger.begin_write(OUTBOX_LOCK) as connection:
        assert hold_session(connection, digest_of(signed_in.session_id)) is None


def _signed_in(ledger: Ledger, username: str, at: datetime, cap: int = SESSIONS_PER_USER) -> str:
    signed_in = sign_in(ledger, username, PASSWORD, at, HOURS, sessions_per_user=cap)
    assert signed_in is not None
    return signed_in.session_id


def test_a_login_past_the_cap_ends_the_users_oldest_sessions_and_no_one_elses(ledger: Ledger) -> None:
    add_user(ledger, "cora", PASSWORD, Role.COLLECTOR)
    add_user(ledger, "ada", PASSWORD, Role.ADMIN)
    ada = _signed_in(ledger, "ada", NOW)
    assert SESSIONS_PER_USER == 10
    cora = [_signed_in(ledger, "cora", NOW + timedelta(minutes=n)) for n in range(SESSIONS_PER_USER)]
    assert all(_open(ledger, s) for s in cora), "ten sessions are within the default cap"
    cora.append(_signed_in(ledger, "cora", NOW + timedelta(minutes=10)))
    assert [_open(ledger, s) is not None for s in cora] == [False] + [True] * 10, "the oldest ended"
    cora.append(_signed_in(ledger, "cora", NOW + timedelta(minutes=11), cap=3))
    assert [_open(ledger, s) is not None for s in cora] == [False] * 9 + [True] * 3, "a lower cap ends more"
    assert _reasons(ledger).count(SessionEnd.TOO_MANY.value) == 9
    assert _open(ledger, ada) == "ada (admin)", "another user's sessions do not count"


def test_the_login_that_reaches_the_cap_keeps_its_own_session_whatever_the_clock(ledger: Ledger) -> None:
    """Logins in the same instant (a clock that does not move): the new session is never the one ended."""
    add_user(ledger, "cora", PASSWORD, Role.COLLECTOR)
    for _ in range(4):
        newest = _signed_in(ledger, "cora", NOW, cap=2)
        assert _open(ledger, newest) == "cora (collector)"
    with ledger.begin() as connection:
        still = connection.execute(select(dashboard_sessions).where(dashboard_sessions.c.ended_at.is_(None))).all()
    assert len(still) == 2
