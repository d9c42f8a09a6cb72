"""The sessions of the open live streams are looked up together: one query for all of them at most twice
per check interval, whatever the number of streams; an ended, expired or disabled user's session reads
as closed, and a ledger that does not answer as unknown. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from reminder_pipeline.collections import users as accounts
from reminder_pipeline.collections.sessions import digest_of, end_session
from reminder_pipeline.collections.users import Role, add_user, disable_user, sign_in
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.web.dashboard.watch import StreamSessions
from reminder_pipeline_tests.web.dashboard.conftest import CHEAP_HASHER, PASSWORD

NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_HASHER", CHEAP_HASHER)


def _session(ledger: Ledger, username: str, hours: float = 1.0) -> str:
    signed_in = sign_in(ledger, username, PASSWORD, NOW, timedelta(hours=hours), sessions_per_user=100)
    assert signed_in is not None
    return digest_of(signed_in.session_id)


def _queries(ledger: Ledger) -> list[str]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("SELECT") and "dashboard_sessions" in statement:
            seen.append(statement)

    event.listen(ledger.engine, "before_cursor_execute", count)
    return seen


def test_many_streams_cost_one_query_per_look(ledger: Ledger) -> None:
    add_user(ledger, "cora", PASSWORD, Role.COLLECTOR)
    digests = [_session(ledger, "cora") for _ in range(30)]
    streams = StreamSessions(ledger, lambda: NOW, check_seconds=60.0)
    for digest in digests:
        streams.watch(digest)
    queries = _queries(ledger)
    assert all(streams.is_open(digest) for digest in digests)
    assert len(queries) == 1, "thirty streams, one query"
    end_session(ledger, digests[0], NOW)
    assert streams.is_open(digests[0]), "within the interval the last answer stands"
    streams.max_age = 0.0
    assert streams.is_open(digests[0]) is False
    assert len(queries) == 2


def test_ended_expired_and_disabled_sessions_read_as_closed(ledger: Ledger) -> None:
    add_user(ledger, "cora", PASSWORD, Role.COLLECTOR)
    add_user(ledger, "vic", PASSWORD, Role.VIEWER)
    ended, expiring, open_one = _session(ledger, "cora"), _session(ledger, "cora", hours=0.5), _session(ledger, "cora")
    vic = _session(ledger, "vic")
    end_session(ledger, ended, NOW)
    clock = [NOW + timedelta(minutes=45)]
    streams = StreamSessions(ledger, lambda: clock[0], check_seconds=0.0)
    for digest in (ended, expiring, open_one, vic):
        streams.watch(digest)
    assert [streams.is_open(d) for d in (ended, expiring, open_one, vic)] == [False, False, True, True]
    disable_user(ledger, "vic")
    assert streams.is_open(vic) is False
    streams.unwatch(open_one)
    assert streams.is_open(open_one) is False, "a session no stream watches is not looked up"


def test_a_ledger_that_does_not_answer_is_unknown_not_open(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    add_user(ledger, "cora", PASSWORD, Role.COLLECTOR)
    digest = _session(ledger, "cora")
    streams = StreamSessions(ledger, lambda: NOW, check_seconds=0.0)
    streams.watch(digest)
    assert streams.is_open(digest) is True
    ledger.engine.dispose()
    monkeypatch.setattr(ledger.engine.dialect, "do_execute", _refuse)
    assert streams.is_open(digest) is None


def _refuse(*_: Any) -> None:
    from sqlalchemy.exc import OperationalError

    raise OperationalError("SELECT", {}, Exception("the database went away"))
