"""The ingestion assets materialized by Dagster against a drop folder and a real ledger."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import dagster as dg
from sqlalchemy import insert

from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.ingestion.assets import customers, invoices, payments, quarantine_rate_result
from reminder_pipeline.defs.ingestion.checks import (
    customers_reachable,
    no_overpaid_invoices,
    payments_agree_with_their_invoices,
)
from reminder_pipeline.ingestion.report import IngestReport
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline_tests.defs.runs import (
    D1,
    D2,
    INVOICE_HEADER,
    asset_resources,
    check_outcomes,
    partition_metadata,
    partition_range,
    write_two_day_drop,
)
from reminder_pipeline_tests.ingestion.helpers import customers_csv, ingest_file, write_csv

ASSETS = [customers, invoices, payments]
CHECKS = [payments_agree_with_their_invoices, no_overpaid_invoices, customers_reachable]


def _materialize(ledger_url: str, root: Path, instance: dg.DagsterInstance) -> dg.ExecuteInJobResult:
    return dg.materialize(
        [*ASSETS, *CHECKS],
        instance=instance,
        resources=asset_resources(root.parent, ledger_url=ledger_url, drop=root),
        tags=partition_range(D1, D2),
        raise_on_error=False,
    )


def test_two_business_days_in_one_run(ledger_url: str, tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        result = _materialize(ledger_url, write_two_day_drop(tmp_path / "drop"), instance)
    assert result.success
    customer_meta = partition_metadata(result, "customers")[D1]
    assert (customer_meta["rows_in"], customer_meta["accepted"], customer_meta["quarantined"]) == (3, 2, 1)
    assert "***" in customer_meta["preview"].records[0].data["email"], "the preview masks addresses"
    invoice_meta = partition_metadata(result, "invoices")
    counts = {
        day: (m["business_days"], m["rows_in"], m["accepted"], m["quarantined"]) for day, m in invoice_meta.items()
    }
    assert counts == {D1: (1, 21, 20, 1), D2: (1, 1, 1, 0)}, "each partition shows its own day, not the run's totals"
    reasons = invoice_meta[D1]["quarantine_reasons"]
    assert [r.data["reason"] for r in reasons.records] == ["invalid_amount"]  # type: ignore[attr-defined]
    assert invoice_meta[D2]["quarantine_reasons"].records == []
    invoiced = {day: m["invoiced_by_currency"].records[0].data for day, m in invoice_meta.items()}
    assert {day: (i["invoices"], i["invoiced"]) for day, i in invoiced.items()} == {
        D1: (20, "€390.00"),
        D2: (1, "€5.00"),
    }
    payment_meta = partition_metadata(result, "payments")
    assert {day: m["accepted"] for day, m in payment_meta.items()} == {D1: 0, D2: 2}
    assert {day: m["receivables_as_of"] for day, m in payment_meta.items()} == {D1: D1, D2: D2}
    assert payment_meta[D2]["open_invoices"] == 20
    aging = {r.data["days_past_due"]: r.data["invoices"] for r in payment_meta[D2]["aging"].records}  # type: ignore[attr-defined]
    assert aging == {"not yet due": 20, "1-7": 0, "8-30": 0, "31-60": 0, "60+": 0}
    assert "data:image/png;base64," in payment_meta[D2]["aging_chart"]
    assert "data:image" not in payment_meta[D1]["aging_chart"], "one chart per run, for its last day"
    assert f"Drawn for the run's last day, {D2}" in payment_meta[D1]["aging_chart"]
    checks = check_outcomes(result)
    assert checks["customers.rows_conserved"] is True
    assert checks["invoices.rows_conserved"] is True
    assert checks["payments.rows_conserved"] is True
    assert checks["payments.payments_agree_with_their_invoices"] is True
    assert checks["payments.no_overpaid_invoices"] is False
    assert checks["customers.quarantine_rate_acceptable"] is True


def test_a_broken_feed_blocks_everything_downstream(sqlite_url: str, tmp_path: Path) -> None:
    root = write_two_day_drop(tmp_path / "drop", bad_invoices=10)
    with dg.instance_for_test() as instance:
        result = _materialize(sqlite_url, root, instance)
    assert not result.success
    assert check_outcomes(result)["invoices.quarantine_rate_acceptable"] is False
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "payments" not in materialized


def _report(day: date, rows_in: int, quarantined: int) -> IngestReport:
    return IngestReport(
        entity="invoices",
        source=f"drop/{day}",
        source_key=str(day),
        business_date=day,
        rows_in=rows_in,
        accepted=rows_in - quarantined,
        quarantined=quarantined,
        unchanged=rows_in - quarantined,
        reasons={"invalid_amount": quarantined} if quarantined else {},
    )


def test_one_broken_day_inside_a_long_backfill_fails_the_rate_check() -> None:
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(120)]
    reports = [_report(day, 100, 12 if day == days[60] else 1) for day in days]
    assert sum(r.quarantined for r in reports) / sum(r.rows_in for r in reports) < 0.05
    result = quarantine_rate_result(reports)
    assert result.passed is False
    assert result.metadata["broken_days"].value == 1
    worst = result.metadata["worst_days"].value.records  # type: ignore[attr-defined]
    assert worst[0].data["business_date"] == days[60].isoformat()
    assert worst[0].data["quarantined"] == 12


def test_days_below_the_rate_or_the_minimum_rows_pass_the_rate_check() -> None:
    reports = [_report(date(2026, 1, 1), 100, 5), _report(date(2026, 1, 2), 20, 9)]
    assert quarantine_rate_result(reports).passed is True


def test_a_payment_that_contradicts_its_invoice_fails_the_consistency_check(
    upgraded_ledger_url: str, tmp_path: Path
) -> None:
    ledger_url = upgraded_ledger_url
    with Ledger(ledger_url) as store:
        ingest_file(store, customers_csv(tmp_path / "c.csv", "C1", "C2"), Entity.CUSTOMERS)
        ingest_file(store, write_csv(tmp_path / "i.csv", f"{INVOICE_HEADER}\nI1,C1,{D1},2026-04-01,10.00,EUR"))
        check = payments_agree_with_their_invoices(ledger=LedgerResource(url=ledger_url))
        assert check.passed is True
        with store.begin() as connection:
            connection.execute(
                insert(schema.payments).values(
                    payment_id="P1",
                    invoice_id="I1",
                    customer_id="C2",
                    amount_minor=500,
                    currency="USD",
                    paid_date=date(2026, 3, 3),
                    source="written directly",
                )
            )
    failed = payments_agree_with_their_invoices(ledger=LedgerResource(url=ledger_url))
    assert failed.passed is False
    assert failed.metadata["customer_differs_from_invoice"].value == 1
    assert failed.metadata["currency_differs_from_invoice"].value == 1
