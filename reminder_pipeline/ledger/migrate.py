"""Schema migrations with Alembic, run programmatically against a live connection.

Several processes may start at once (parallel Dagster runs, the CLI): the upgrade holds a
lock — a PostgreSQL advisory lock, or a lock file beside the SQLite database.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"
ADVISORY_LOCK_ID = 0x52454D494E44  # "REMIND"
# Not alembic's default: Dagster's own PostgreSQL storage keeps its revision in alembic_version,
# and the ledger may share that database.
VERSION_TABLE = "ledger_schema_version"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return _revision(connection)


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    if engine.dialect.name == "sqlite" and engine.url.database not in (
        None,
        "",
        ":memory:",
    ):
        lock_path = Path(str(engine.url.database) + ".migrate.lock")
        with lock_path.open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            with engine.begin() as connection:
                yield connection
        return
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": ADVISORY_LOCK_ID})
        yield connection


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the ledger schema to ``revision``; a no-op when it is already there."""
    head = head_revision()
    if revision == "head" and current_revision(engine) == head:
        return
    config = _config()
    with _migration_lock(engine) as connection:
        if revision == "head" and _revision(connection) == head:
            return
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
