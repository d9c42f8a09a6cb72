"""A step retries a database that went away, and fails at once on what cannot heal (a refused feed)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import ClassVar

import dagster as dg
import psycopg2
import pytest
from sqlalchemy import exc

from reminder_pipeline.defs.common import retries
from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.ingestion.assets import customers
from reminder_pipeline.ingestion.files import UnusableInputError
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline_tests.defs.runs import asset_resources

DAY = "2026-03-02"
GONE = exc.OperationalError("SELECT 1", {}, psycopg2.OperationalError("server closed the connection unexpectedly"))


def _sqlite(message: str) -> exc.OperationalError:
    return exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (GONE, True),
        (_sqlite("database is locked"), True),
        (exc.InterfaceError("SELECT 1", {}, psycopg2.InterfaceError("connection already closed")), True),
        (exc.DBAPIError("SELECT 1", {}, Exception("reset"), connection_invalidated=True), True),
        (exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"), True),
        (_sqlite("no such table: invoices"), False),
        (exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")), False),
        (UnusableInputError("customers.csv: binary content (NUL bytes)"), False),
        (ValueError("too few examples"), False),
    ],
)
def test_only_a_database_that_went_away_or_was_busy_is_transient(error: Exception, transient: bool) -> None:
    assert retries.is_transient(error) is transient


def test_a_transient_cause_makes_the_error_transient() -> None:
    wrapped = RuntimeError("reading the billing database failed")
    wrapped.__cause__ = GONE
    assert retries.is_transient(wrapped)
    assert not retries.is_transient(RuntimeError("the billing database answered with garbage"))


class FlakyLedger(LedgerResource):
    """The ledger, gone for the first ``failures`` attempts to open it."""

    failures: int = 1
    opened: ClassVar[list[int]] = []

    def open(self) -> Ledger:
        self.opened.append(1)
        if len(self.opened) <= self.failures:
            raise GONE
        return super().open()


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retries, "TRANSIENT", dg.RetryPolicy(max_retries=3, delay=0.01))
    FlakyLedger.opened.clear()


def _ingest(tmp_path: Path, ledger: LedgerResource, instance: dg.DagsterInstance) -> tuple[bool, int]:
    """Whether ``customers`` of the day materialized, and in how many attempts."""
    result = dg.materialize(
        [customers],
        instance=instance,
        partition_key=DAY,
        resources={**asset_resources(tmp_path), "ledger": ledger},
        raise_on_error=False,
    )
    [step] = instance.get_run_step_stats(result.run_id)
    return result.success, step.attempts or 0


def _drop(tmp_path: Path, name: str, content: bytes) -> None:
    day = tmp_path / "drop" / DAY
    day.mkdir(parents=True)
    (day / name).write_bytes(content)


@pytest.mark.usefixtures("quick_retries")
def test_a_ledger_that_comes_back_is_retried_within_the_run(tmp_path: Path, sqlite_url: str) -> None:
    _drop(tmp_path, "customers.csv", b"customer_id,email\nC1,c1@example.com\n")
    with dg.instance_for_test() as instance:
        assert _ingest(tmp_path, FlakyLedger(url=sqlite_url, failures=2), instance) == (True, 3)


@pytest.mark.usefixtures("quick_retries")
def test_a_database_that_stays_away_is_retried_then_fails(tmp_path: Path) -> None:
    _drop(tmp_path, "customers.csv", b"customer_id,email\nC1,c1@example.com\n")
    refused = LedgerResource(url="postgresql+psycopg2://postgres@127.0.0.1:1/ledger")
    with dg.instance_for_test() as instance:
        assert _ingest(tmp_path, refused, instance) == (False, 4), "a refused connection is retried three times"


@pytest.mark.usefixtures("quick_retries")
def test_a_refused_feed_fails_at_once(tmp_path: Path, sqlite_url: str) -> None:
    _drop(tmp_path, "customers.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")
    with dg.instance_for_test() as instance:
        assert _ingest(tmp_path, LedgerResource(url=sqlite_url), instance) == (False, 1)
