"""The webhook writer's SQLite log: its commits do not checkpoint it, the writer does once a batch is answered
(at most once an interval), and the log restarts after each checkpoint however long the writer goes. On a real
SQLite file (the database file itself is read without the log to see what was checkpointed)."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reminder_pipeline.ledger.store import Ledger, upgrade_ledger
from reminder_pipeline.listening.inbox import INBOX_LOCK, EventSource, store_events
from reminder_pipeline.web import checkpoints
from reminder_pipeline.web.checkpoints import WriterLedger

NOW = datetime(2026, 3, 10, 16, tzinfo=UTC)
BODY = "x" * 40_000
"""About ten pages of log an event."""
PAGE = 4096


@pytest.fixture
def sqlite_file(tmp_path: Path, sqlite_template: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    shutil.copy(sqlite_template, path)
    return path


def _write(ledger: Ledger, first: int, count: int) -> None:
    events = [(EventSource.PAYMENT, f"key-{first + n}", BODY) for n in range(count)]
    with ledger.begin_write(INBOX_LOCK, shared=True) as connection:
        store_events(connection, events, NOW)


def _log_bytes(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def _checkpointed_events(path: Path) -> int:
    """Events in the database file itself: ``immutable`` reads it without the log."""
    connection = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return int(connection.execute("SELECT count(*) FROM inbound_events").fetchone()[0])
    finally:
        connection.close()


def test_commits_without_auto_checkpoint_leave_the_log_to_grow(sqlite_file: Path) -> None:
    url = f"sqlite:///{sqlite_file}"
    with Ledger(url, auto_checkpoint=False) as ledger:
        for batch in range(30):
            _write(ledger, batch * 10, 10)
        assert _log_bytes(sqlite_file) > 2000 * PAGE
        assert _checkpointed_events(sqlite_file) == 0
    (sqlite_file.with_name(sqlite_file.name + "-wal")).unlink(missing_ok=True)  # checkpointed at the close
    with Ledger(url) as ledger:  # SQLite's own checkpoints: the log is reused from its start past 1,000 pages
        for batch in range(30, 90):
            _write(ledger, batch * 10, 10)
        assert _log_bytes(sqlite_file) < 1300 * PAGE


@contextmanager
def _writer(sqlite_file: Path) -> Iterator[tuple[Ledger, WriterLedger]]:
    """The app's ledger and the webhook writer's, closed afterwards."""
    with Ledger(f"sqlite:///{sqlite_file}") as app_ledger:
        writing = WriterLedger(app_ledger)
        try:
            yield app_ledger, writing
        finally:
            writing.close()


def test_an_answered_batch_is_checkpointed_at_most_once_an_interval(
    sqlite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints, "INTERVAL_SECONDS", 3600.0)
    with _writer(sqlite_file) as (app_ledger, writing):
        assert writing.ledger is not app_ledger
        _write(writing.ledger, 0, 5)
        assert _checkpointed_events(sqlite_file) == 0
        writing.answered()
        assert (writing.checkpoints, _checkpointed_events(sqlite_file)) == (1, 5)
        _write(writing.ledger, 5, 5)
        writing.answered()  # within the interval: left in the log
        assert (writing.checkpoints, _checkpointed_events(sqlite_file)) == (1, 5)


def test_the_log_restarts_after_each_checkpoint_however_long_the_writer_goes(
    sqlite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """100 batches of about 40 pages each: the log never holds more than a few of them."""
    monkeypatch.setattr(checkpoints, "INTERVAL_SECONDS", 0.0)
    longest = 0
    with _writer(sqlite_file) as (app_ledger, writing):
        for batch in range(100):
            _write(writing.ledger, batch * 4, 4)
            writing.answered()
            longest = max(longest, _log_bytes(sqlite_file))
        assert writing.checkpoints == 100
        assert longest < 200 * PAGE
        assert _checkpointed_events(sqlite_file) == 400
        with app_ledger.begin() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM inbound_events").scalar_one() == 400


def test_a_postgresql_ledger_is_written_as_it_is(postgres_url: str) -> None:
    upgrade_ledger(postgres_url)
    with Ledger(postgres_url) as ledger:
        writing = WriterLedger(ledger)
        assert writing.ledger is ledger
        writing.answered()
        assert writing.checkpoints == 0
        writing.close()


def test_writers_of_one_sqlite_file_take_turns(sqlite_file: Path) -> None:
    """Two writers (as two server processes have: each its own open file) never write a batch at once; the
    second starts the moment the first ends. The lock file sits beside the ledger."""
    with _writer(sqlite_file) as (_, first), _writer(sqlite_file) as (_, second):
        order: list[str] = []

        def wait_for_turn() -> None:
            with second.turn():
                order.append("second")

        with first.turn():
            order.append("first")
            waiting = threading.Thread(target=wait_for_turn)
            waiting.start()
            waiting.join(timeout=0.5)
            assert waiting.is_alive(), "the second writer waits while the first writes"
            order.append("first done")
        waiting.join(timeout=10)
        assert order == ["first", "first done", "second"]


def test_the_turns_are_taken_on_a_file_beside_the_ledger(sqlite_file: Path) -> None:
    with _writer(sqlite_file) as (_, writing), writing.turn():
        assert checkpoints.turns_file(f"sqlite:///{sqlite_file}").exists()


def test_a_writer_whose_lock_file_cannot_be_opened_writes_without_turns(
    sqlite_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another user's lock file, a read-only folder: the writer goes on (SQLite's own lock keeps writers
    apart) instead of its thread ending and every webhook after waiting for an answer that never comes."""
    not_a_file = tmp_path / "a folder"
    not_a_file.mkdir()
    monkeypatch.setattr(checkpoints, "turns_file", lambda _url: not_a_file)
    with _writer(sqlite_file) as (_, writing):
        for first in range(2):
            with writing.turn():
                _write(writing.ledger, first, 1)
    with Ledger(f"sqlite:///{sqlite_file}") as ledger, ledger.begin() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM inbound_events").scalar_one() == 2


def test_a_turn_held_too_long_is_given_up(sqlite_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A frozen process holding the turn delays the others at most as long as SQLite's busy timeout would."""
    monkeypatch.setattr(checkpoints, "TURN_WAIT_SECONDS", 0.3)
    with _writer(sqlite_file) as (_, first), _writer(sqlite_file) as (_, second), first.turn():
        started = time.monotonic()
        with second.turn():
            waited = time.monotonic() - started
    assert 0.3 <= waited < 5
