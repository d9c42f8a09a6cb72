"""``reminders users set-password``, ``set-role``, ``disable`` and ``enable``: each changes the user and the
first three end every session of theirs; ``reminders users list`` shows them all. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from reminder_pipeline.cli import main
from reminder_pipeline.collections import users as accounts
from reminder_pipeline.collections.sessions import digest_of, end_session, find_session
from reminder_pipeline.collections.users import Role, add_user, authenticate, disable_user, sign_in
from reminder_pipeline.ledger.schema import users
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


def _list(ledger: Ledger, *args: str) -> str:
    result = CliRunner().invoke(main, ["users", "list", "--db", ledger.url, *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_list_shows_each_user_with_their_state_last_login_and_open_sessions_but_no_hash(ledger: Ledger) -> None:
    assert _list(ledger).startswith("no dashboard users yet: add one with `reminders users add")
    assert json.loads(_list(ledger, "--json")) == {"users": []}
    add_user(ledger, "cora", PASSWORD, Role.COLLECTOR)
    add_user(ledger, "vic", PASSWORD, Role.VIEWER)
    add_user(ledger, "ada", PASSWORD, Role.ADMIN)
    now = datetime.now(UTC).replace(microsecond=0)
    expired = sign_in(ledger, "cora", PASSWORD, now - timedelta(hours=3), timedelta(hours=1))
    logged_out = sign_in(ledger, "cora", PASSWORD, now - timedelta(minutes=30), timedelta(hours=1))
    for _ in range(2):
        assert sign_in(ledger, "cora", PASSWORD, now - timedelta(minutes=5), timedelta(hours=1)) is not None
    assert expired is not None
    assert logged_out is not None
    end_session(ledger, digest_of(logged_out.session_id), now)
    assert sign_in(ledger, "vic", PASSWORD, now - timedelta(minutes=1), timedelta(hours=1)) is not None
    disable_user(ledger, "vic")

    listed = {row["username"]: row for row in json.loads(_list(ledger, "--json"))["users"]}
    assert list(listed) == ["ada", "cora", "vic"]
    assert {k: listed["cora"][k] for k in ("role", "enabled", "disabled_at", "open_sessions")} == {
        "role": "collector",
        "enabled": True,
        "disabled_at": None,
        "open_sessions": 2,
    }, "neither the expired nor the logged-out session is open"
    assert datetime.fromisoformat(listed["cora"]["last_login_at"]) == now - timedelta(minutes=5)
    assert (listed["vic"]["enabled"], listed["vic"]["open_sessions"]) == (False, 0)
    assert datetime.fromisoformat(listed["vic"]["disabled_at"]) >= now - timedelta(minutes=1)
    assert (listed["ada"]["last_login_at"], listed["ada"]["open_sessions"]) == (None, 0)
    assert all(datetime.fromisoformat(row["created_at"]).tzinfo is not None for row in listed.values())

    table = [re.split(r"\s{2,}", line) for line in _list(ledger).splitlines()]
    assert table[0] == ["username", "role", "state", "created (UTC)", "last login (UTC)", "open sessions"]
    login = (now - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M")
    assert [row[:3] + row[4:] for row in table[1:]] == [
        ["ada", "admin", "enabled", "-", "0"],
        ["cora", "collector", "enabled", login, "2"],
        ["vic", "viewer", "disabled", (now - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M"), "0"],
    ]
    with ledger.begin() as connection:
        hashes = list(connection.execute(select(users.c.password_hash)).scalars())
    for output in ("\n".join("  ".join(row) for row in table), _list(ledger, "--json")):
        assert "$argon2" not in output
        assert not any(hashed in output for hashed in hashes)
        assert "password" not in output


def test_the_list_needs_an_existing_ledger_at_the_current_schema(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite"
    result = CliRunner().invoke(main, ["users", "list", "--db", f"sqlite:///{missing}", "--json"])
    assert result.exit_code == 2, result.output
    assert "no ledger at" in result.stderr
    assert not missing.exists(), "listing creates nothing"
