"""Engines for the ledger: the embedded SQLite file or PostgreSQL, chosen by the URL.

Every engine hides statement parameters from its error messages: a failed write must never carry
customer data into logs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()


def _sqlite_engine(parsed: URL) -> Engine:
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": 60}, hide_parameters=True)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def is_file_sqlite(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)


def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sqlite_write_engine(url: str) -> Engine:
    """An engine whose transactions start with ``BEGIN IMMEDIATE``: they take SQLite's write lock first.

    A deferred transaction that reads and then writes cannot wait for another writer in WAL mode
    (its snapshot is stale): it fails with "database is locked". An immediate one waits its turn
    (``busy_timeout``) and then reads what the previous writer committed.
    """
    engine = _sqlite_engine(make_url(url))
    event.listen(engine, "connect", _no_implicit_begin)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def safe_url(url: str) -> str:
    """The URL with its password hidden, for logs and metadata."""
    return make_url(url).render_as_string(hide_password=True)
