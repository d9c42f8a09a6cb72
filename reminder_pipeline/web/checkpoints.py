"""The webhook writer's SQLite write-ahead log checkpointed once a batch is answered, not inside its commits.

SQLite checkpoints in the commit that takes its log past 1,000 pages (``wal_autocheckpoint``): that commit
copies the log into the database file and waits for its fsyncs, before the batch is processed or answered
— at full load a checkpoint every few batches, and a large share of the time every request waits. The
webhook writer's own connections do not checkpoint (a :class:`~reminder_pipeline.ledger.store.Ledger`
opened with ``auto_checkpoint=False``); the writer runs a PASSIVE checkpoint itself once the batch's answers
are out, at most every ``INTERVAL_SECONDS`` (the next batch's requests gather meanwhile; SQLite runs it without
holding Python's lock, so the app goes on answering). Its next write then restarts the log from the start, as
after SQLite's own checkpoints: the log holds at most what the writer wrote in that interval. It is synced
at each checkpoint, at least as often as before under load. Other connections (the dashboard's, other
processes') keep SQLite's own checkpoints.

Several server processes on one SQLite file (``reminders serve --workers N``) take turns: each holds a lock on
a file beside the ledger (``flock``) for the whole of a batch, its store and its processing. SQLite's write
lock alone would keep them apart too, but a writer waiting for it sleeps in SQLite's busy handler (1, 2, 5,
10, 15 ms...) and wakes after the other has long finished; one waiting for the file lock tries again every
half a millisecond, and takes every request that gathered meanwhile.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from reminder_pipeline.ledger.engine import LedgerUnavailable, is_file_sqlite
from reminder_pipeline.ledger.store import Ledger, describe_database_error

log = logging.getLogger("reminder_pipeline.web")

TURN_WAIT_SECONDS = 60.0
"""As long as SQLite's busy timeout: a writer waits no longer for its turn than it would for SQLite's lock."""
TURN_POLL_SECONDS = 0.0005

INTERVAL_SECONDS = 0.1
"""The writer checkpoints at most this often: each checkpoint copies the pages written since the last one
(under load the same pages again and again) and waits for two fsyncs."""


class WriterLedger:
    """The ledger a webhook writer writes through: on a SQLite file one of its own, whose commits leave the
    checkpoints to :meth:`answered`; otherwise (or should that one not open) the app's, as it is."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._own: Ledger | None = None
        self._last = float("-inf")
        self.checkpoints = 0
        """Checkpoints run (a figure for tests)."""
        self._turns: Path | None = None
        if not is_file_sqlite(ledger.url):
            return
        self._turns = turns_file(ledger.url)
        try:
            self._own = Ledger(ledger.url, auto_checkpoint=False)
        except (LedgerUnavailable, SQLAlchemyError) as error:
            log.warning("the webhook writer leaves its checkpoints to SQLite: %s", type(error).__name__)
            return
        self.ledger = self._own

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """This process's turn to write a batch, among the server processes on the same SQLite file.

        Waited for at most ``TURN_WAIT_SECONDS``. Without a turn — the lock file cannot be opened or locked
        (another user's file, a read-only folder, a file system without locks), or another process holds it
        too long (a frozen one) — the batch is written all the same: SQLite's own lock keeps the writers
        apart, only the prompt hand-over is lost."""
        descriptor = self._take_turn()
        try:
            yield
        finally:
            if descriptor is not None:
                os.close(descriptor)  # releases the lock

    def _take_turn(self) -> int | None:
        if self._turns is None:
            return None
        try:
            descriptor = os.open(self._turns, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            self._without_turns(error)
            return None
        waited_until = time.monotonic() + TURN_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return descriptor
            except BlockingIOError:
                if time.monotonic() > waited_until:
                    log.warning("another server process kept the ledger's writer turn too long: writing without it")
                    os.close(descriptor)
                    return None
                time.sleep(TURN_POLL_SECONDS)
            except OSError as error:
                os.close(descriptor)
                self._without_turns(error)
                return None

    def _without_turns(self, error: OSError) -> None:
        log.warning("the webhook writer takes no turns (its lock file: %s): SQLite's lock alone", type(error).__name__)
        self._turns = None

    def answered(self) -> None:
        """A batch was committed and answered: checkpoint the log, unless that was done less than an interval ago."""
        if self._own is None or time.monotonic() - self._last < INTERVAL_SECONDS:
            return
        self._last = time.monotonic()
        try:
            connection = self._own.engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                cursor.close()
            finally:
                connection.close()
        except Exception as error:  # the log is kept: the next checkpoint copies it
            log.warning("checkpointing the ledger's log failed: %s", describe_database_error(error))
            return
        self.checkpoints += 1

    def close(self) -> None:
        if self._own is not None:
            self._own.dispose()


def turns_file(url: str) -> Path:
    """The file the webhook writers of one SQLite ledger lock in turn: beside it, named after it."""
    database = Path(str(make_url(url).database)).resolve()
    return database.with_name(database.name + ".webhook-writer.lock")
