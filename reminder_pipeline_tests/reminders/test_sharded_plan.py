"""A day planned shard by shard equals the day planned in one run over everyone (issue 15), on SQLite and
PostgreSQL: the same decisions and the same outbox rows, over two days so replanning and cancelling run."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.planning.shards import Shard
from reminder_pipeline.ledger.schema import outbox
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.reminders.service import DayPlan, plan_and_record_day
from reminder_pipeline_tests.ingestion.helpers import ingest_file, write_csv

DAY = date(2026, 3, 10)
POLICY = load_policy()
CUSTOMERS = 150
SHARDS = 3
IGNORED = {"outbox_id", "created_at", "updated_at"}


def _owing(ledger: Ledger, folder: Path) -> None:
    """Customers in Berlin and New York, some with a second invoice, overdue from 1 to 60 days."""
    folder.mkdir(exist_ok=True)
    people, invoices = [], []
    for i in range(CUSTOMERS):
        cid = f"C{i:04d}"
        if i % 3:
            people.append(f"{cid},Anna {cid},{cid.lower()}@example.com,,DE,Europe/Berlin,de_DE,email,false")
        else:
            people.append(f"{cid},Sam {cid},,+1202555{i:04d},US,America/New_York,en_US,sms,true")
        invoices.append(f"{cid}-1,{cid},2025-12-01,{DAY - timedelta(days=1 + i % 60)},{100 + i}.00,EUR")
        if i % 4 == 0:
            invoices.append(f"{cid}-2,{cid},2026-01-05,{DAY - timedelta(days=i % 23)},{40 + i}.50,EUR")
    header = "customer_id,name,email,phone,country,time_zone,locale,preferred_channel,sms_consent\n"
    ingest_file(ledger, write_csv(folder / "customers.csv", header + "\n".join(people)), Entity.CUSTOMERS)
    header = "invoice_id,customer_id,issue_date,due_date,amount,currency\n"
    ingest_file(ledger, write_csv(folder / "invoices.csv", header + "\n".join(invoices)), Entity.INVOICES)


def _plan(ledger: Ledger, day: date, shard: Shard | None = None) -> DayPlan:
    """The day planned as the assets plan it: without a shard (the default), or of ``shard``."""
    morning = datetime.combine(day, time(5), tzinfo=UTC)
    sharded = {} if shard is None else {"shard": shard}
    return plan_and_record_day(ledger, POLICY, day, morning, run_id=f"run-{day}", business_tz="UTC", **sharded)


def _normal(value: object) -> object:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    return value


def _outbox(ledger: Ledger) -> list[tuple[object, ...]]:
    columns = [c for c in outbox.c if c.name not in IGNORED]
    with ledger.begin() as connection:
        rows = connection.execute(select(*columns).order_by(outbox.c.dedupe_key)).all()
    return [tuple(_normal(v) for v in row) for row in rows]


@pytest.fixture
def whole(tmp_path: Path, sqlite_template: Path) -> Iterator[Ledger]:
    """The same ledger on SQLite, planned in one run over every customer."""
    path = tmp_path / "whole.sqlite"
    template, copy = sqlite3.connect(sqlite_template), sqlite3.connect(path)
    try:
        template.backup(copy)
    finally:
        copy.close()
        template.close()
    with Ledger(f"sqlite:///{path}") as store:
        yield store


def test_the_shards_plans_together_are_the_plan_of_one_run(ledger: Ledger, whole: Ledger, tmp_path: Path) -> None:
    _owing(whole, tmp_path / "whole")
    _owing(ledger, tmp_path / "sharded")
    shards = [Shard(i, SHARDS) for i in range(SHARDS)]
    for day in (DAY, DAY + timedelta(days=1), DAY + timedelta(days=8)):
        one = _plan(whole, day).decisions.sort("customer_id")
        parts = [_plan(ledger, day, shard).decisions for shard in shards]
        assert all(part.height > 0 for part in parts)  # every shard had customers
        assert one["decision"].n_unique() > 1  # the day decides more than one way
        assert pl.concat(parts).sort("customer_id").equals(one)
        assert _outbox(ledger) == _outbox(whole)
    with whole.begin() as connection:
        statuses = set(connection.execute(select(outbox.c.status).distinct()).scalars())
    assert len(statuses) > 1  # replanning moved rows on (cancelled or expired)
