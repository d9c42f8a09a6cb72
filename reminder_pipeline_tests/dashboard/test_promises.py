"""The dashboard's promises, read from a real ledger: kept and cancelled ones are over and not read; a pending
one puts the customer in the waiting queue, a broken one (marked so, or lapsed) in the at-risk queue."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert

from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.history import PromiseStatus
from reminder_pipeline.dashboard.accounts import Queue, accounts
from reminder_pipeline.dashboard.loading import load_sources
from reminder_pipeline.ledger.schema import promises_to_pay
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline_tests.ingestion.helpers import ingest_file, write_csv

DAY = date(2026, 3, 10)
STATUSES = {
    "A": PromiseStatus.PENDING,
    "B": PromiseStatus.BROKEN,
    "C": PromiseStatus.KEPT,
    "D": PromiseStatus.CANCELLED,
}


def _seed(ledger: Ledger, folder: Path) -> None:
    """Four customers each owing 100 EUR 20 days late, each with a promise to pay in five days."""
    people = "\n".join(f"{c},Person {c},{c.lower()}@example.com,DE,Europe/Berlin,de_DE,email" for c in STATUSES)
    bills = "\n".join(f"{c}-1,{c},2026-01-10,{DAY - timedelta(days=20)},100.00,EUR" for c in STATUSES)
    header = "customer_id,name,email,country,time_zone,locale,preferred_channel\n"
    ingest_file(ledger, write_csv(folder / "customers.csv", header + people), Entity.CUSTOMERS)
    bill_header = "invoice_id,customer_id,issue_date,due_date,amount,currency\n"
    ingest_file(ledger, write_csv(folder / "invoices.csv", bill_header + bills), Entity.INVOICES)
    rows = [
        {
            "promise_id": f"promise-{customer}",
            "customer_id": customer,
            "promised_date": DAY + timedelta(days=5),
            "made_on": DAY - timedelta(days=1),
            "status": status.value,
            "source": "test",
        }
        for customer, status in STATUSES.items()
    ]
    with ledger.begin() as connection:
        connection.execute(insert(promises_to_pay), rows)


def test_promises_over_are_not_read_and_a_broken_one_puts_the_customer_at_risk(ledger: Ledger, tmp_path: Path) -> None:
    _seed(ledger, tmp_path)
    with ledger.begin() as connection:
        sources = load_sources(connection, DAY)
    read = dict(sources.promises.select("customer_id", "status").iter_rows())
    assert read == {"A": PromiseStatus.PENDING, "B": PromiseStatus.BROKEN}, "kept and cancelled promises are over"
    frame = accounts(sources, promise_grace_days=3)
    assert dict(frame.select("customer_id", "queue").iter_rows()) == {
        "A": Queue.WAITING,
        "B": Queue.AT_RISK,
        "C": Queue.READY,
        "D": Queue.READY,
    }
