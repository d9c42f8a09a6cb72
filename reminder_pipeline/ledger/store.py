"""The ledger handle: opening a ledger at the latest schema, migrating one explicitly, and the locked write
transactions every writer uses."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from reminder_pipeline.ledger.engine import (
    LedgerUnavailable,
    is_file_sqlite,
    make_engine,
    make_sqlite_write_engine,
    parse_url,
    safe_url,
)
from reminder_pipeline.ledger.migrate import current_revision, head_revision, upgrade

LOCK_NAMESPACE = "reminder_pipeline.ledger:"
NO_LEDGER_HINT = "check the URL, or create the ledger first (run `reminders db upgrade`, or ingest a file)"


class LedgerWriteError(RuntimeError):
    """A database error in a write transaction, reduced to its class and error code.

    The driver's own message may quote row values (``Key (email)=(...)``), which must not reach
    logs or Dagster's event log; the transaction was rolled back.
    """


def describe_database_error(error: BaseException) -> str:
    """``<driver error class> (SQLSTATE <code>)`` — never the message, which may carry values."""
    original = getattr(error, "orig", None) or error
    sqlstate = getattr(original, "pgcode", None)
    if sqlstate:
        return f"{type(original).__name__} (SQLSTATE {sqlstate})"
    sqlite_code = getattr(original, "sqlite_errorname", None)
    if sqlite_code:
        return f"{type(original).__name__} ({sqlite_code})"
    return type(original).__name__


def advisory_lock_key(lock: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_xact_lock`` (the same in every process and run)."""
    digest = hashlib.sha256((LOCK_NAMESPACE + lock).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _connection_problem(url: str, error: DBAPIError) -> str:
    """Why a database does not answer: the driver's first line (about the server, never row values)."""
    first = next((line.strip() for line in str(error.orig).splitlines() if line.strip()), "")
    reason = f"{describe_database_error(error)}: {first}" if first else describe_database_error(error)
    return f"cannot open the ledger at {safe_url(url)} ({reason}): check the URL, and that the database is running"


def upgrade_ledger(url: str, *, create_folder: bool = False) -> str | None:
    """Create the ledger's schema at ``url`` or migrate it to the latest revision; returns the revision.

    The one way a schema changes: opening a :class:`Ledger` never migrates. The database may be new
    (an empty PostgreSQL database, a SQLite file not made yet), but a SQLite file's folder must exist
    unless ``create_folder`` (the embedded default's, which is the product's own).
    """
    engine = make_engine(url, create_folder=create_folder)
    try:
        try:
            current_revision(engine)
        except DBAPIError as error:
            raise LedgerUnavailable(_connection_problem(url, error)) from error
        upgrade(engine)
        return current_revision(engine)
    finally:
        engine.dispose()


class Ledger:
    """An open ledger, at the schema revision this version of the code needs.

    Opening creates and changes nothing: a ledger that does not exist, or whose schema is behind, is
    refused with :class:`LedgerUnavailable` saying to run ``reminders db upgrade`` (:func:`upgrade_ledger`).
    """

    def __init__(self, url: str, *, auto_checkpoint: bool = True) -> None:
        """``auto_checkpoint=False``: on SQLite, write transactions leave checkpoints of the write-ahead log to
        the caller (:func:`~reminder_pipeline.ledger.engine.make_sqlite_write_engine`)."""
        self.url = url
        parsed = parse_url(url)
        if is_file_sqlite(url) and not Path(str(parsed.database)).is_file():
            raise LedgerUnavailable(f"no ledger at {self.display_url}: the file does not exist; {NO_LEDGER_HINT}")
        self.engine: Engine = make_engine(url, create_folder=False)
        self._write_engine: Engine | None = (
            make_sqlite_write_engine(url, auto_checkpoint=auto_checkpoint) if is_file_sqlite(url) else None
        )
        try:
            self._check_revision()
        except BaseException:
            self.dispose()
            raise

    def _check_revision(self) -> None:
        try:
            revision = current_revision(self.engine)
        except DBAPIError as error:
            raise LedgerUnavailable(_connection_problem(self.url, error)) from error
        if revision is None:
            raise LedgerUnavailable(f"no ledger at {self.display_url}: the database holds none; {NO_LEDGER_HINT}")
        if revision != head_revision():
            raise LedgerUnavailable(
                f"the ledger at {self.display_url} is at schema revision {revision}, this version needs "
                f"{head_revision()}: migrate it first (run `reminders db upgrade`)"
            )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        return safe_url(self.url)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction for reading (and writes that need no lock); it never blocks a writer."""
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def begin_write(self, lock: str, *, shared: bool = False) -> Iterator[Connection]:
        """A write transaction that holds ``lock`` from its first statement to its end.

        Read-check-write sequences under the same lock never interleave, whichever process runs
        them. PostgreSQL: a transaction-scoped advisory lock on a key derived from ``lock``; with
        ``shared``, holders of the shared lock run together (delivery workers, who lock their own
        rows) and only exclude the exclusive holders (planning, rendering).
        SQLite: ``BEGIN IMMEDIATE``, the database's single write lock (so any name serialises).
        A database error rolls back and surfaces as :class:`LedgerWriteError`, without its text.
        """
        failure: LedgerWriteError | None = None
        try:
            with self._locked(lock, shared) as connection:
                yield connection
        except (SQLAlchemyError, self.engine.dialect.loaded_dbapi.Error) as error:
            failure = LedgerWriteError(f"writing to the ledger failed: {describe_database_error(error)}")
        if failure is not None:
            raise failure from None

    @contextmanager
    def _locked(self, lock: str, shared: bool) -> Iterator[Connection]:
        if self._write_engine is not None:
            with self._write_engine.begin() as connection:
                yield connection
            return
        with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
                connection.execute(text(f"SELECT {function}(:key)"), {"key": advisory_lock_key(lock)})
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()
        if self._write_engine is not None:
            self._write_engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_: object) -> None:
        self.dispose()
