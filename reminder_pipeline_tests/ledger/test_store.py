"""The ledger handle: locked write transactions whose failures never carry row values."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import insert, inspect, select, text

from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.engine import LedgerUnavailable, make_engine
from reminder_pipeline.ledger.migrate import VERSION_TABLE, current_revision, head_revision
from reminder_pipeline.ledger.store import Ledger, LedgerWriteError, advisory_lock_key, upgrade_ledger


def test_engines_hide_statement_parameters(ledger: Ledger) -> None:
    engines = [ledger.engine] + ([ledger._write_engine] if ledger._write_engine is not None else [])
    assert all(engine.hide_parameters for engine in engines)


def test_a_failed_write_reports_only_the_error_class_and_code(ledger: Ledger) -> None:
    secret = "jane.secret@example.com"

    def write_twice() -> None:
        with ledger.begin_write("test") as connection:
            connection.execute(insert(schema.customers).values(customer_id="C1", email=secret, source="t"))
            connection.execute(insert(schema.customers).values(customer_id="C1", email=secret, source="t"))

    with pytest.raises(LedgerWriteError) as raised:
        write_twice()
    message = str(raised.value)
    assert secret not in message
    assert "C1" not in message
    assert "IntegrityError" in message or "UniqueViolation" in message
    if ledger.dialect == "postgresql":
        assert "SQLSTATE 23505" in message
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__
    with ledger.begin() as connection:
        assert connection.execute(schema.customers.select()).all() == []


def test_advisory_lock_keys_are_stable_across_processes() -> None:
    code = "from reminder_pipeline.ledger.store import advisory_lock_key; print(advisory_lock_key('ingest:invoices'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert int(other) == advisory_lock_key("ingest:invoices")
    assert advisory_lock_key("ingest:invoices") != advisory_lock_key("ingest:payments")
    assert -(2**63) <= advisory_lock_key("ingest:invoices") < 2**63


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlit:///x.sqlite", "names the database 'sqlit'"),
        ("not a url", "not a database URL"),
        ("postgresql+nodriver://u@127.0.0.1/x", r"names the driver 'postgresql\+nodriver'"),
        (
            "postgresql+psycopg://u:pw@127.0.0.1/x",
            r"driver of postgresql\+psycopg://u:\*\*\*@127.0.0.1/x is not installed",
        ),
    ],
)
def test_a_url_that_names_no_usable_database_is_refused(url: str, message: str) -> None:
    with pytest.raises(LedgerUnavailable, match=message):
        Ledger(url)


def test_a_database_that_does_not_answer_is_refused_with_its_url_and_without_its_password() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(
        LedgerUnavailable, match=f"cannot open the ledger at .*:{port}/x .*Connection refused"
    ) as raised:
        Ledger(f"postgresql+psycopg2://postgres:hunter2@127.0.0.1:{port}/x")
    assert "hunter2" not in str(raised.value)


def test_only_an_upgrade_that_may_create_the_folder_makes_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'ledger.sqlite'}"
    with pytest.raises(LedgerUnavailable, match=r"no ledger at .*: the file does not exist"):
        Ledger(url)
    with pytest.raises(LedgerUnavailable, match=f"no folder {tmp_path / 'new'}"):
        upgrade_ledger(url)
    assert not (tmp_path / "new").exists()
    assert upgrade_ledger(url, create_folder=True) == head_revision()
    with Ledger(url) as ledger:
        assert current_revision(ledger.engine) == head_revision()


def _tables(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_opening_a_ledger_creates_and_migrates_nothing(ledger_url: str, tmp_path: Path) -> None:
    """Issue 9: constructing a ``Ledger`` upgraded the schema as a side effect; only an explicit upgrade may."""
    if ledger_url.startswith("sqlite"):
        with pytest.raises(
            LedgerUnavailable, match=r"no ledger at .*: the file does not exist; .*reminders db upgrade"
        ):
            Ledger(ledger_url)
        assert not list(tmp_path.iterdir())
        sqlite3.connect(ledger_url.removeprefix("sqlite:///")).close()
    with pytest.raises(LedgerUnavailable, match=r"no ledger at .*: the database holds none; .*reminders db upgrade"):
        Ledger(ledger_url)
    assert _tables(ledger_url) == [], "opening created tables"
    upgrade_ledger(ledger_url)
    with Ledger(ledger_url) as ledger, ledger.begin() as connection:
        connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0001'"))
    with pytest.raises(
        LedgerUnavailable, match=r"at schema revision 0001, this version needs .*run `reminders db upgrade`"
    ):
        Ledger(ledger_url)
    engine = make_engine(ledger_url)
    with engine.connect() as connection:
        assert connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one() == "0001"
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = :head"), {"head": head_revision()})
    engine.dispose()
    with Ledger(ledger_url) as ledger:
        assert current_revision(ledger.engine) == head_revision()


def test_an_upgrade_is_a_no_op_on_a_ledger_at_the_latest_schema(ledger: Ledger) -> None:
    with ledger.begin() as connection:
        connection.execute(insert(schema.customers).values(customer_id="C1", source="t"))
    assert upgrade_ledger(ledger.url) == head_revision()
    with ledger.begin() as connection:
        assert connection.execute(select(schema.customers.c.customer_id)).scalars().all() == ["C1"]


def test_an_upgrade_refuses_a_database_that_does_not_answer_without_its_password() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(LedgerUnavailable, match=f"cannot open the ledger at .*:{port}/x") as raised:
        upgrade_ledger(f"postgresql+psycopg2://postgres:hunter2@127.0.0.1:{port}/x")
    assert "hunter2" not in str(raised.value)
