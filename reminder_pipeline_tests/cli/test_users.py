"""``reminders users set-password``, ``set-role``, ``disable`` and ``enable``: each changes the user and the
first three end every session of theirs. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from reminder_pipeline.cli import main
from reminder_pipeline.collections import users as accounts
from reminder_pipeline.collections.sessions import find_session
from reminder_pipeline.collections.users import Role, add_user, authenticate, sign_in
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline_tests.web.dashboard.conftest import CHEAP_HASHER

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_HASHER", CHEAP_HASHER)


def _session(ledger: Ledger) -> str:
    signed_in = sign_in(ledger, "cora", PASSWORD, datetime.now(UTC), timedelta(hours=1))
    assert signed_in is not None
    return signed_in.session_id


def _open(ledger: Ledger, session_id: str) -> str | None:
    with ledger.begin() as connection:
        found = find_session(connection, session_id, datetime.now(UTC))
    return None if found is None else found.role


def _run(ledger: Ledger, *args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(main, ["users", *args, "--username", "cora", "--db", ledger.url], input=stdin)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "said"),
    [
        (["set-password", "--password-stdin"], "a new passphrase!\n", "new password for cora; 2 sessions"),
        (["set-role", "--role", "viewer"], None, "cora is now viewer; 2 sessions"),
        (["disable"], None, "cora is disabled; 2 sessions"),
    ],
)
def test_each_change_ends_every_session_of_the_user(
    ledger: Ledger, args: list[str], stdin: str | None, said: str
) -> None:
    add_user(ledger, "cora", PASSWORD, Role.COLLECTOR)
    sessions = [_session(ledger), _session(ledger)]
    assert said in _run(ledger, *args, stdin=stdin)
    assert [_open(ledger, s) for s in sessions] == [None, None]


def test_the_changes_take_effect_and_enable_lets_a_disabled_user_in_again(ledger: Ledger) -> None:
    add_user(ledger, "cora", PASSWORD, Role.COLLECTOR)
    _run(ledger, "set-password", "--password-stdin", stdin="a new passphrase!\n")
    assert authenticate(ledger, "cora", PASSWORD) is None
    assert authenticate(ledger, "cora", "a new passphrase!") is not None
    _run(ledger, "set-password", "--password-stdin", stdin=f"{PASSWORD}\n")
    _run(ledger, "set-role", "--role", "admin")
    old = _session(ledger)
    assert _open(ledger, old) == "admin"
    _run(ledger, "disable")
    assert authenticate(ledger, "cora", PASSWORD) is None
    assert "cora may log in again" in _run(ledger, "enable")
    assert _open(ledger, old) is None, "a session ended by disabling stays ended"
    assert _open(ledger, _session(ledger)) == "admin"


@pytest.mark.parametrize("args", [["set-password", "--password-stdin"], ["set-role", "--role", "viewer"], ["disable"]])
def test_an_unknown_user_is_one_line_and_exit_2(ledger: Ledger, args: list[str]) -> None:
    result = CliRunner().invoke(
        main, ["users", *args, "--username", "nobody", "--db", ledger.url], input="long enough pw\n"
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "error: no user named 'nobody': check the name, or add them with `reminders users add`"
    ]
