"""The ledger handle: locked write transactions whose failures never carry row values."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import insert

from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.store import Ledger, LedgerWriteError, advisory_lock_key


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
