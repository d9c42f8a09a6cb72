"""Engines for the ledger: the embedded SQLite file or PostgreSQL, chosen by the URL.

Every engine hides statement parameters from its error messages: a failed write must never carry
customer data into logs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

BACKENDS = ("sqlite", "postgresql")
URL_EXAMPLES = "sqlite:///PATH/ledger.sqlite or postgresql+psycopg2://USER@HOST:5432/DATABASE"


class LedgerUnavailable(Exception):
    """The ledger cannot be opened: the URL is wrong, the database does not answer, or it holds no ledger.

    The message names the URL without its password, and never a driver's text that could quote values.
    """


def parse_url(url: str) -> URL:
    """The URL of a database the ledger can live in, or :class:`LedgerUnavailable` saying what is wrong."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        # not repeated: a malformed URL cannot be shown without the risk of showing its password
        raise LedgerUnavailable(f"the ledger URL is not a database URL; write it as {URL_EXAMPLES}") from None
    if parsed.get_backend_name() not in BACKENDS:
        raise LedgerUnavailable(
            f"the ledger URL names the database '{parsed.drivername}': the ledger lives in SQLite or PostgreSQL "
            f"({URL_EXAMPLES})"
        )
    try:
        parsed.get_dialect()
    except NoSuchModuleError:
        raise LedgerUnavailable(
            f"the ledger URL names the driver '{parsed.drivername}', which SQLAlchemy does not know ({URL_EXAMPLES})"
        ) from None
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()


def _sqlite_engine(parsed: URL, *, create_folder: bool = True) -> Engine:
    if parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).parent
        if create_folder:
            folder.mkdir(parents=True, exist_ok=True)
        elif not folder.is_dir():
            raise LedgerUnavailable(
                f"no folder {folder} for the ledger {safe_url(parsed)}: create it, or correct the path"
            )
    engine = create_engine(parsed, connect_args={"timeout": 60}, hide_parameters=True)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def is_file_sqlite(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")


def make_engine(url: str, *, create_folder: bool = True) -> Engine:
    """An engine for ``url``; ``create_folder=False`` refuses a SQLite file whose folder does not exist."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, create_folder=create_folder)
    try:
        return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
    except ImportError as exc:
        raise LedgerUnavailable(
            f"the database driver of {safe_url(parsed)} is not installed ({exc.name}): use postgresql+psycopg2://"
        ) from None


def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _no_auto_checkpoint(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


def make_sqlite_write_engine(url: str, *, auto_checkpoint: bool = True) -> Engine:
    """An engine whose transactions start with ``BEGIN IMMEDIATE``: they take SQLite's write lock first.

    A deferred transaction that reads and then writes cannot wait for another writer in WAL mode
    (its snapshot is stale): it fails with "database is locked". An immediate one waits its turn
    (``busy_timeout``) and then reads what the previous writer committed. Without ``auto_checkpoint`` its
    commits never checkpoint the write-ahead log: whoever asked for that checkpoints it
    (:mod:`reminder_pipeline.web.checkpoints`).
    """
    engine = _sqlite_engine(make_url(url))
    event.listen(engine, "connect", _no_implicit_begin)
    event.listen(engine, "begin", _begin_immediate)
    if not auto_checkpoint:
        event.listen(engine, "connect", _no_auto_checkpoint)
    return engine


def safe_url(url: str | URL) -> str:
    """The URL with its password hidden, for logs and metadata."""
    return make_url(url).render_as_string(hide_password=True)
