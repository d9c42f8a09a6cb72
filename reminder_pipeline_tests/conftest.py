"""Shared fixtures: real PostgreSQL (a fresh database per test) and SQLite ledgers.

A PostgreSQL test never skips: if the server is down the fixture starts it, and if it still
cannot connect the test fails (a skipped backend would pass a suite that never ran on it).

An upgraded ledger is a copy of one migrated once per session (PostgreSQL: a database made from a
template database; SQLite: a backup of a template file), not migrated again for every test: the
migrations cost about a second a test on PostgreSQL, and the copy is the schema they make. The
migration tests themselves start from empty databases (``postgres_url``, ``sqlite_url``).
"""

from __future__ import annotations

import glob
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest

from reminder_pipeline.ledger.store import Ledger, upgrade_ledger

PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PROJECT = Path(__file__).resolve().parents[1]


def _pg_answers() -> bool:
    try:
        psycopg2.connect(connect_timeout=3, **PG_ADMIN).close()
        return True
    except psycopg2.OperationalError:
        return False


def _start_postgres() -> None:
    versions = sorted(Path(p).name for p in glob.glob("/etc/postgresql/*"))
    if not versions:
        return
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
        check=False,
        capture_output=True,
    )
    for _ in range(30):
        if _pg_answers():
            return
        time.sleep(1)


def require_postgres() -> dict[str, object]:
    """The server's admin connection settings; starts the server if needed, fails (never skips) if it cannot."""
    if not _pg_answers():
        _start_postgres()
    if not _pg_answers():
        pytest.fail("PostgreSQL at 127.0.0.1:5432 does not answer and could not be started")
    return PG_ADMIN


@pytest.fixture(scope="session")
def postgres_server() -> dict[str, object]:
    return require_postgres()


def database_url(name: str) -> str:
    return f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"


@contextmanager
def new_database(admin_settings: dict[str, object], prefix: str, template: str | None = None) -> Iterator[str]:
    """A PostgreSQL database of its own (a copy of ``template`` if given), dropped afterwards: its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(**admin_settings)  # type: ignore[arg-type]
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: dict[str, object]) -> Iterator[str]:
    """A database migrated to the latest revision once, that upgraded test databases are made from."""
    with new_database(postgres_server, "rp_template") as name:
        upgrade_ledger(database_url(name))
        yield name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite ledger migrated to the latest revision once, that upgraded test ledgers are copied from."""
    path = tmp_path_factory.mktemp("ledger_template") / "ledger.sqlite"
    upgrade_ledger(f"sqlite:///{path}")
    return path


@pytest.fixture
def postgres_url(postgres_server: dict[str, object], request: pytest.FixtureRequest) -> Iterator[str]:
    """A new database for the test, dropped after it: empty, or a copy of the migrated template when the
    test asks for an upgraded ledger."""
    upgraded = "upgraded_ledger_url" in request.fixturenames
    template = request.getfixturevalue("postgres_template") if upgraded else None
    with new_database(postgres_server, "rp_test", template) as name:
        yield database_url(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest) -> str:
    """Run the test once on the embedded SQLite ledger and once on a real PostgreSQL database."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def upgraded_ledger_url(ledger_url: str, request: pytest.FixtureRequest) -> str:
    """``ledger_url`` with the ledger's schema created (opening a ``Ledger`` never does it): on PostgreSQL
    the database was made from the migrated template; a SQLite file is a backup of the migrated one."""
    if ledger_url.startswith("sqlite"):
        template = sqlite3.connect(request.getfixturevalue("sqlite_template"))
        copy = sqlite3.connect(ledger_url.removeprefix("sqlite:///"))
        try:
            template.backup(copy)
        finally:
            copy.close()
            template.close()
    return ledger_url


@pytest.fixture
def ledger(upgraded_ledger_url: str) -> Iterator[Ledger]:
    with Ledger(upgraded_ledger_url) as store:
        yield store


@pytest.fixture(scope="session")
def ibm_csv() -> Path:
    path = SHARED_DATA / "ibm_ar.csv"
    if not path.exists():
        pytest.fail(f"{path} is missing: the shared evaluation data must sit beside the project")
    return path


@pytest.fixture(scope="session")
def ibm_mapping() -> Path:
    return PROJECT / "reminder_pipeline" / "mappings" / "ibm_ar.yaml"
