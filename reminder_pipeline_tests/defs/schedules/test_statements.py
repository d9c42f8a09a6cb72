"""The statement run: which customers a billing cycle day covers, their statements, and its schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.statements.cycles import cycle_date, cycle_days_on, previous_cycle_date
from reminder_pipeline.core.statements.lines import Courtesy, courtesy_of_invoices
from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.schedules.statements import (
    StatementStore,
    billing_cycle_statements,
    billing_cycle_statements_schedule,
)
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.reminders.service import plan_and_record_day
from reminder_pipeline_tests.defs.runs import asset_metadata, asset_resources, partition_metadata, partition_range
from reminder_pipeline_tests.ingestion.helpers import ingest_file, write_csv

CYCLE = date(2026, 4, 30)  # the last day of April: cycle days 30 and 31 fall on it


def test_a_cycle_day_past_a_short_month_falls_on_its_last_day() -> None:
    assert cycle_days_on(date(2026, 4, 30)) == [30, 31]
    assert cycle_days_on(date(2026, 2, 28)) == [28, 29, 30, 31]
    assert cycle_days_on(date(2028, 2, 28)) == [28]  # a leap year: 29 falls on the 29th
    assert cycle_days_on(date(2026, 5, 15)) == [15]
    assert cycle_date(31, 2026, 2) == date(2026, 2, 28)
    assert previous_cycle_date(31, date(2026, 3, 31)) == date(2026, 2, 28)
    assert previous_cycle_date(15, date(2026, 1, 15)) == date(2025, 12, 15)


def test_a_courtesy_reminder_that_reached_a_provider_counts_as_sent() -> None:
    rows = pl.DataFrame(
        {
            "customer_id": ["C1", "C1", "C2", "C3"],
            "invoice_ids": [["A"], ["A", "B"], ["C"], ["D"]],
            "status": ["expired", "sent", "rendered", "cancelled"],
        }
    )
    states = dict(courtesy_of_invoices(rows).iter_rows())
    assert states == {"A": Courtesy.SENT.value, "B": Courtesy.SENT.value, "C": Courtesy.WAITING.value}


def _billing(ledger: Ledger, folder: Path) -> None:
    people = [
        ("C1", 31),  # owes an old overdue invoice and a new one
        ("C2", 30),  # a new invoice due in a month: its courtesy note is not due yet
        ("C3", 15),  # another cycle
        ("C4", 31),  # paid everything
        ("C5", 31),  # a new invoice due in three days: the plan writes its courtesy note today
    ]
    customers = "customer_id,name,email,country,time_zone,locale,preferred_channel,billing_cycle_day\n" + "\n".join(
        f"{c},Pat {c},{c.lower()}@example.com,DE,Europe/Berlin,de_DE,email,{day}" for c, day in people
    )
    invoices = "invoice_id,customer_id,issue_date,due_date,amount,currency,paid_date\n" + "\n".join(
        [
            "O1,C1,2026-03-31,2026-04-15,120.00,EUR,",
            "N1,C1,2026-04-30,2026-05-30,80.00,EUR,",
            "N2,C2,2026-04-20,2026-05-30,50.00,EUR,",
            "N3,C3,2026-04-15,2026-05-15,10.00,EUR,",
            "P4,C4,2026-03-31,2026-04-30,10.00,EUR,2026-04-10",
            "N5,C5,2026-04-30,2026-05-03,30.00,EUR,",
        ]
    )
    ingest_file(ledger, write_csv(folder / "customers.csv", customers), Entity.CUSTOMERS)
    ingest_file(ledger, write_csv(folder / "invoices.csv", invoices), Entity.INVOICES)
    morning = datetime.combine(CYCLE, time(5), tzinfo=UTC)
    plan_and_record_day(ledger, load_policy(), CYCLE, morning, run_id="statements-test", business_tz="UTC")


def test_the_statements_of_a_cycle_day(ledger: Ledger, tmp_path: Path) -> None:
    _billing(ledger, tmp_path)
    store = StatementStore(root=str(tmp_path / "statements"))
    result = dg.materialize(
        [billing_cycle_statements],
        resources=asset_resources(tmp_path, ledger_url=ledger.url) | {"statement_store": store},
        partition_key=CYCLE.isoformat(),
    )
    assert result.success
    lines = pl.read_parquet(store.path(CYCLE.isoformat()))
    shown = {row["invoice_id"]: row for row in lines.iter_rows(named=True)}
    assert set(shown) == {"O1", "N1", "N2", "N5"}, "the cycle's customers, only what is open"
    assert shown["O1"]["overdue"]
    assert not shown["O1"]["new_in_cycle"]
    assert shown["O1"]["courtesy"] == Courtesy.NOT_APPLICABLE.value
    assert shown["N1"]["new_in_cycle"]
    assert shown["N1"]["days_to_due"] == 30
    assert shown["N2"]["courtesy"] == Courtesy.NOT_YET.value, "due in a month: the ladder's courtesy comes later"
    assert shown["N5"]["courtesy"] == Courtesy.WAITING.value, "the day's plan wrote its courtesy reminder"
    metadata = asset_metadata(result, "billing_cycle_statements")
    assert (metadata["cycle_customers"], metadata["customers_with_open_invoices"]) == (4, 3)
    assert (metadata["open_invoices"], metadata["new_invoices"]) == (4, 3)
    assert "Pat" not in str(metadata)
    assert "@example.com" not in str(metadata)


def test_a_backfill_over_two_days_shows_each_days_own_statements(ledger: Ledger, tmp_path: Path) -> None:
    _billing(ledger, tmp_path)
    store = StatementStore(root=str(tmp_path / "statements"))
    before = date(2026, 4, 29)  # nobody's cycle day
    result = dg.materialize(
        [billing_cycle_statements],
        resources=asset_resources(tmp_path, ledger_url=ledger.url) | {"statement_store": store},
        tags=partition_range(before, CYCLE),
    )
    assert result.success
    shown = partition_metadata(result, "billing_cycle_statements")
    figures = {day: (m["cycle_customers"], m["statements_planned"], m["open_invoices"]) for day, m in shown.items()}
    assert figures[before.isoformat()] == (0, 0, 0), "the day before shows its own (empty) run, not the last day's"
    assert figures[CYCLE.isoformat()][0] == 4
    assert figures[CYCLE.isoformat()][2] == 4


@pytest.mark.parametrize(("day", "runs"), [(CYCLE, True), (date(2026, 4, 29), False)])
def test_the_schedule_runs_only_on_someones_cycle_day(ledger: Ledger, tmp_path: Path, day: date, runs: bool) -> None:
    _billing(ledger, tmp_path)
    at = datetime.combine(day, time(7), tzinfo=UTC)
    with (
        dg.instance_for_test() as instance,
        dg.build_schedule_context(
            instance=instance, scheduled_execution_time=at, resources={"ledger": LedgerResource(url=ledger.url)}
        ) as context,
    ):
        result = billing_cycle_statements_schedule(context)
    if runs:
        assert isinstance(result, dg.RunRequest)
        assert result.partition_key == day.isoformat()
    else:
        assert isinstance(result, dg.SkipReason)
        assert "2026-04-29" in str(result.skip_message)


def test_cycle_days_missed_in_an_outage_are_caught_up_with_the_next_tick(ledger: Ledger, tmp_path: Path) -> None:
    _billing(ledger, tmp_path)
    at = datetime.combine(date(2026, 5, 2), time(7), tzinfo=UTC)
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization("billing_cycle_statements", partition="2026-04-28"))
        resources = {"ledger": LedgerResource(url=ledger.url)}
        with dg.build_schedule_context(instance=instance, scheduled_execution_time=at, resources=resources) as context:
            result = billing_cycle_statements_schedule(context)
    assert isinstance(result, dg.RunRequest)
    assert result.tags["dagster/asset_partition_range_start"] == "2026-04-30"
    assert result.tags["dagster/asset_partition_range_end"] == "2026-05-02"
