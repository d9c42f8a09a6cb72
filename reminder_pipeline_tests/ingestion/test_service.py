"""Ingestion into a real ledger, on SQLite and on PostgreSQL (the ``ledger`` fixture runs both)."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import insert

from reminder_pipeline.config_files import load_mapping
from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.mapping import Mapping, UnusableInputError
from reminder_pipeline.core.validation.result import ValidationResult, empty_quarantine
from reminder_pipeline.ingestion import apply as apply_module
from reminder_pipeline.ingestion.files import read_file
from reminder_pipeline.ingestion.report import IngestReport
from reminder_pipeline.ingestion.service import ingest_table
from reminder_pipeline.ledger import receivables, schema
from reminder_pipeline.ledger.quarantine import quarantine_overview
from reminder_pipeline.ledger.store import Ledger, LedgerWriteError
from reminder_pipeline_tests.ingestion.helpers import customers_csv, frame_of, ingest_file, snapshot, write_csv

HEADER = "invoice_id,customer_id,issue_date,due_date,amount,currency,paid_date,paid_amount,disputed"

HOSTILE_INVOICES = f"""
{HEADER}
OK-1,C1,2026-01-01,2026-01-31,100.00,EUR,,,
OK-2,C1,2026-01-02,2026-02-01,50,EUR,2026-01-20,20.00,no
DUP-SAME,C2,2026-01-03,2026-02-02,10.00,EUR,,,
DUP-SAME,C2,2026-01-03,2026-02-02,10.00,EUR,,,
DUP-DIFF,C2,2026-01-03,2026-02-02,10.00,EUR,,,
DUP-DIFF,C2,2026-01-03,2026-02-02,11.00,EUR,,,
,C1,2026-01-01,2026-01-31,1.00,EUR,,,
BAD-DATE,C1,2026-02-30,2026-03-31,1.00,EUR,,,
BAD-AMOUNT,C1,2026-01-01,2026-01-31,12abc,EUR,,,
NEGATIVE,C1,2026-01-01,2026-01-31,-3.00,EUR,,,
BAD-CCY,C1,2026-01-01,2026-01-31,3.00,EUROS,,,
PRECISION,C1,2026-01-01,2026-01-31,3.001,EUR,,,
DUE-BEFORE,C1,2026-01-10,2026-01-01,3.00,EUR,,,
STRANGER,NOBODY,2026-01-01,2026-01-31,3.00,EUR,,,
BAD-FLAG,C1,2026-01-01,2026-01-31,3.00,EUR,,,perhaps
RAGGED,C1,2026-01-01
"""

EXPECTED_REASONS = {
    "conflicting_duplicate": 2,
    "missing_field": 1,
    "invalid_date": 1,
    "invalid_amount": 1,
    "negative_amount": 1,
    "invalid_currency": 1,
    "amount_precision": 1,
    "due_before_issue": 1,
    "unknown_customer": 1,
    "invalid_boolean": 1,
    "malformed_row": 1,
}


@pytest.fixture
def with_customers(ledger: Ledger, tmp_path: Path) -> Ledger:
    report = ingest_file(ledger, customers_csv(tmp_path / "customers.csv", "C1", "C2", "C3"), Entity.CUSTOMERS)
    assert report.inserted == 3
    return ledger


def test_the_ibm_sample_loads_through_its_mapping(ledger: Ledger, ibm_csv: Path, ibm_mapping: Path) -> None:
    reports = ingest_table(ledger, read_file(ibm_csv), mapping=load_mapping(ibm_mapping))
    customers, invoices = reports
    assert (customers.rows_in, customers.accepted, customers.quarantined) == (100, 100, 0)
    assert (invoices.rows_in, invoices.accepted, invoices.quarantined) == (2466, 2466, 0)
    assert invoices.effects == {
        "settlements_recorded": 2466,
        "disputes_opened": 561,
        "disputes_resolved": 0,
        "overpaid_invoices": 0,
    }
    with ledger.begin() as connection:
        counts = receivables.row_counts(connection)
        assert receivables.open_invoices(connection, date(2015, 1, 1)).is_empty()
        open_mid_2013 = receivables.open_invoices(connection, date(2013, 6, 30))
    assert counts["invoices"] == 2466
    assert counts["payments"] == 2466
    assert counts["disputes"] == 561
    assert open_mid_2013.height > 0
    invoices_table = frame_of(ledger, "invoices")
    assert invoices_table.filter(pl.col("invoice_id") == "0000611365")["amount_minor"].to_list() == [5594]
    assert "DaysLate" not in invoices_table["attributes"][0]


def test_a_file_with_every_kind_of_bad_row(with_customers: Ledger, tmp_path: Path) -> None:
    report = ingest_file(with_customers, write_csv(tmp_path / "hostile.csv", HOSTILE_INVOICES))
    assert report.rows_in == 16
    assert report.reasons == dict(sorted(EXPECTED_REASONS.items()))
    assert report.quarantined == sum(EXPECTED_REASONS.values())
    assert report.accepted == 4
    assert report.folded_duplicates == 1
    assert report.rows_in == report.accepted + report.quarantined
    with with_customers.begin() as connection:
        counts, latest = quarantine_overview(connection, reason=None, limit=100)
    assert counts == EXPECTED_REASONS
    assert "2026-02-30" in latest.filter(pl.col("reason") == "invalid_date")["detail"][0]
    invoices = frame_of(with_customers, "invoices")
    assert sorted(invoices["invoice_id"]) == ["DUP-SAME", "OK-1", "OK-2"]
    payments = frame_of(with_customers, "payments")
    assert payments.select("payment_id", "amount_minor").rows() == [("OK-2:settled", 2000)]


def test_reingesting_the_same_file_changes_nothing(with_customers: Ledger, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "hostile.csv", HOSTILE_INVOICES)
    first = ingest_file(with_customers, path)
    before = snapshot(with_customers)
    again = ingest_file(with_customers, path)
    assert snapshot(with_customers) == before
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, first.accepted)
    assert again.reasons == first.reasons


def test_the_same_invoice_with_other_content_conflicts_with_the_ledger(with_customers: Ledger, tmp_path: Path) -> None:
    ingest_file(with_customers, write_csv(tmp_path / "a.csv", f"{HEADER}\nX,C1,2026-01-01,2026-01-31,100.00,EUR,,,"))
    report = ingest_file(
        with_customers, write_csv(tmp_path / "b.csv", f"{HEADER}\nX,C1,2026-01-01,2026-01-31,999.00,EUR,,,")
    )
    assert report.reasons == {"conflicts_with_ledger": 1}
    assert frame_of(with_customers, "invoices")["amount_minor"].to_list() == [10000]


def test_settlement_and_disputes_arriving_later_update_the_invoice(with_customers: Ledger, tmp_path: Path) -> None:
    ingest_file(with_customers, write_csv(tmp_path / "a.csv", f"{HEADER}\nX,C1,2026-01-01,2026-01-31,100.00,EUR,,,"))
    disputed = ingest_table(
        with_customers,
        read_file(write_csv(tmp_path / "b.csv", f"{HEADER}\nX,C1,2026-01-01,2026-01-31,100.00,EUR,,,true")),
        business_date=date(2026, 2, 3),
    )[-1]
    assert (disputed.updated, disputed.effects["disputes_opened"]) == (1, 1)
    settled = ingest_table(
        with_customers,
        read_file(write_csv(tmp_path / "c.csv", f"{HEADER}\nX,C1,2026-01-01,2026-01-31,100.00,EUR,2026-02-10,,false")),
        business_date=date(2026, 2, 10),
    )[-1]
    assert settled.effects == {
        "settlements_recorded": 1,
        "disputes_opened": 0,
        "disputes_resolved": 1,
        "overpaid_invoices": 0,
    }
    dispute = frame_of(with_customers, "disputes").row(0, named=True)
    assert (dispute["opened_on"], dispute["resolved_on"]) == (date(2026, 2, 3), date(2026, 2, 10))
    with with_customers.begin() as connection:
        assert receivables.open_invoices(connection, date(2026, 2, 9))["invoice_id"].to_list() == ["X"]
        assert receivables.open_invoices(connection, date(2026, 2, 10)).is_empty()


def test_partial_payments_reduce_the_balance(with_customers: Ledger, tmp_path: Path) -> None:
    ingest_file(with_customers, write_csv(tmp_path / "i.csv", f"{HEADER}\nX,C1,2026-01-01,2026-01-31,100.00,EUR,,,"))
    payments = """
payment_id,invoice_id,amount,currency,paid_date
P1,X,30.00,EUR,2026-02-01
P2,X,25.50,EUR,2026-02-05
P2,X,25.50,EUR,2026-02-05
P3,NOPE,1.00,EUR,2026-02-05
P4,X,1.00,USD,2026-02-05
P5,X,0,EUR,2026-02-05
"""
    report = ingest_file(with_customers, write_csv(tmp_path / "p.csv", payments), Entity.PAYMENTS)
    assert report.reasons == {"currency_mismatch": 1, "non_positive_amount": 1, "unknown_invoice": 1}
    assert (report.inserted, report.unchanged) == (2, 1)
    with with_customers.begin() as connection:
        balance = receivables.open_invoices(connection, date(2026, 2, 28))["balance_minor"].to_list()
    assert balance == [4450]


def test_a_row_quarantined_for_an_unknown_customer_is_resolved_once_the_customer_arrives(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "i.csv", f"{HEADER}\nX,LATE,2026-01-01,2026-01-31,100.00,EUR,,,")
    assert ingest_file(ledger, path).reasons == {"unknown_customer": 1}
    ingest_file(ledger, customers_csv(tmp_path / "c.csv", "LATE"), Entity.CUSTOMERS)
    report = ingest_file(ledger, path)
    assert (report.inserted, report.quarantined) == (1, 0)
    with ledger.begin() as connection:
        counts, _ = quarantine_overview(connection, reason=None, limit=10)
    assert counts == {}


def test_a_feed_never_erases_contacts_nor_undoes_an_opt_out(ledger: Ledger, tmp_path: Path) -> None:
    first = "customer_id,email,phone,country,sms_opt_out\nC1,a@example.com,+4915112345678,DE,true"
    ingest_file(ledger, write_csv(tmp_path / "a.csv", first), Entity.CUSTOMERS)
    opted_out_at = frame_of(ledger, "customers")["sms_opt_out_at"][0]
    assert opted_out_at is not None
    later = "customer_id,email,phone,country,sms_opt_out\nC1,,,DE,false"
    report = ingest_file(ledger, write_csv(tmp_path / "b.csv", later), Entity.CUSTOMERS)
    row = frame_of(ledger, "customers").row(0, named=True)
    assert report.unchanged == 1
    assert (row["email"], row["phone"], row["sms_opt_out_at"]) == ("a@example.com", "+4915112345678", opted_out_at)


def test_an_empty_file_processes_zero_rows(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    report = ingest_file(ledger, path)
    assert (report.rows_in, report.accepted, report.quarantined) == (0, 0, 0)
    assert report.warnings == ["the file is empty"]


def test_wrong_headers_write_nothing(ledger: Ledger, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "wrong.csv", "foo,bar\n1,2")
    before = snapshot(ledger)
    with pytest.raises(UnusableInputError, match="missing required columns"):
        ingest_file(ledger, path)
    assert snapshot(ledger) == before


def test_invalid_utf8_bytes_quarantine_only_their_row(with_customers: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "enc.csv"
    path.write_bytes(
        f"{HEADER}\nOK,C1,2026-01-01,2026-01-31,1.00,EUR,,,\nBAD,C1,2026-01-01,2026-01-31,1.00,EUR,,,\xff\xfe\n".encode(
            "latin-1"
        )
    )
    report = ingest_file(with_customers, path)
    assert report.reasons == {"invalid_encoding": 1}
    assert report.accepted == 1


def test_a_partly_paid_open_invoice_in_a_history_is_dated_at_the_export(with_customers: Ledger, tmp_path: Path) -> None:
    history = f"""
{HEADER}
X,C1,2026-01-01,2026-01-31,100.00,EUR,,40.00,
Y,C1,2026-02-15,2026-03-15,10.00,EUR,2026-03-01,,
"""
    report = ingest_file(with_customers, write_csv(tmp_path / "h.csv", history))
    assert (report.accepted, report.effects["settlements_recorded"]) == (2, 2)
    with with_customers.begin() as connection:
        before_export = receivables.open_invoices(connection, date(2026, 2, 28))
        after_export = receivables.open_invoices(connection, date(2026, 3, 1))
    assert dict(before_export.select("invoice_id", "balance_minor").iter_rows()) == {"X": 10000, "Y": 1000}
    assert dict(after_export.select("invoice_id", "balance_minor").iter_rows()) == {"X": 6000}


def test_history_and_payments_feed_describing_the_same_money_are_not_added(
    with_customers: Ledger, tmp_path: Path
) -> None:
    ingest_file(
        with_customers, write_csv(tmp_path / "h.csv", f"{HEADER}\nX,C1,2026-01-01,2026-01-31,100.00,EUR,,60.00,")
    )
    payments = "payment_id,invoice_id,amount,currency,paid_date\nP1,X,30.00,EUR,2026-01-10\nP2,X,30.00,EUR,2026-01-15"
    ingest_file(with_customers, write_csv(tmp_path / "p.csv", payments), Entity.PAYMENTS)
    with with_customers.begin() as connection:
        assert receivables.open_invoices(connection, date(2026, 1, 20))["balance_minor"].to_list() == [4000]
        assert receivables.overpaid_invoices(connection).is_empty()
    more = "payment_id,invoice_id,amount,currency,paid_date\nP3,X,40.00,EUR,2026-01-25"
    ingest_file(with_customers, write_csv(tmp_path / "p2.csv", more), Entity.PAYMENTS)
    with with_customers.begin() as connection:
        assert receivables.open_invoices(connection, date(2026, 1, 25)).is_empty()


def test_a_history_dispute_date_dates_the_dispute(with_customers: Ledger, tmp_path: Path) -> None:
    row = f"{HEADER},dispute_date\nX,C1,2026-01-01,2026-01-31,100.00,EUR,,,yes,2026-01-12"
    ingest_file(with_customers, write_csv(tmp_path / "d.csv", row))
    assert frame_of(with_customers, "disputes")["opened_on"].to_list() == [date(2026, 1, 12)]


def test_concurrent_ingests_of_conflicting_files_insert_one_and_quarantine_the_other(
    upgraded_ledger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger_url = upgraded_ledger_url
    with Ledger(ledger_url) as setup:
        ingest_file(setup, customers_csv(tmp_path / "c.csv", "C1"), Entity.CUSTOMERS)
    rows = range(50)
    files = {
        amount: write_csv(
            tmp_path / f"{amount}.csv",
            "\n".join([HEADER, *(f"X{n},C1,2026-01-01,2026-01-31,{amount}.00,EUR,,," for n in rows)]),
        )
        for amount in (100, 999)
    }
    checked = apply_module.conflicts_with_existing

    def slow_check(*args: Any, **kwargs: Any) -> Any:
        """Hold the window between reading the ledger and writing it open, as a big batch would."""
        result = checked(*args, **kwargs)
        time.sleep(0.5)
        return result

    monkeypatch.setattr(apply_module, "conflicts_with_existing", slow_check)
    start = threading.Barrier(2)
    reports: dict[int, IngestReport] = {}
    errors: list[BaseException] = []

    def ingest(amount: int) -> None:
        try:
            with Ledger(ledger_url) as own:
                start.wait()
                reports[amount] = ingest_file(own, files[amount])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=ingest, args=(amount,)) for amount in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    outcomes = sorted((r.inserted, r.reasons.get("conflicts_with_ledger", 0)) for r in reports.values())
    assert outcomes == [(0, len(rows)), (len(rows), 0)]
    winner = next(amount for amount, report in reports.items() if report.inserted)
    with Ledger(ledger_url) as check:
        assert set(frame_of(check, "invoices")["amount_minor"]) == {winner * 100}


def test_a_payment_id_with_the_settlement_suffix_is_reserved(with_customers: Ledger, tmp_path: Path) -> None:
    ingest_file(
        with_customers,
        write_csv(
            tmp_path / "i.csv",
            f"{HEADER}\nP1,C1,2026-01-01,2026-01-31,100,EUR,,,\nP2,C1,2026-01-01,2026-01-31,100,EUR,,,",
        ),
    )
    feed = (
        "payment_id,invoice_id,amount,currency,paid_date\nP2:settled,P1,30,EUR,2026-01-10\nPAY-1,P1,10,EUR,2026-01-10"
    )
    report = ingest_file(with_customers, write_csv(tmp_path / "p.csv", feed), Entity.PAYMENTS)
    assert (report.inserted, report.reasons) == (1, {"reserved_id": 1})
    history = f"{HEADER}\nP2,C1,2026-01-01,2026-01-31,100,EUR,2026-01-20,100,"
    ingest_file(with_customers, write_csv(tmp_path / "h.csv", history))
    payments = frame_of(with_customers, "payments").sort("payment_id")
    assert payments.select("payment_id", "invoice_id", "amount_minor").rows() == [
        ("P2:settled", "P2", 10000),
        ("PAY-1", "P1", 1000),
    ]


def test_a_settlement_id_taken_by_another_payment_is_a_conflict(with_customers: Ledger, tmp_path: Path) -> None:
    """A ledger written before ids were reserved may hold a recorded payment under ``<invoice>:settled``."""
    ingest_file(
        with_customers,
        write_csv(
            tmp_path / "i.csv",
            f"{HEADER}\nP1,C1,2026-01-01,2026-01-31,100,EUR,,,\nP2,C1,2026-01-01,2026-01-31,100,EUR,,,",
        ),
    )
    with with_customers.begin() as connection:
        connection.execute(
            insert(schema.payments).values(
                payment_id="P2:settled",
                invoice_id="P1",
                customer_id="C1",
                amount_minor=3000,
                currency="EUR",
                paid_date=date(2026, 1, 10),
                method="card",
                source="an older feed",
            )
        )
    history = f"{HEADER}\nP2,C1,2026-01-01,2026-01-31,100,EUR,2026-01-20,100,\nP1,C1,2026-01-01,2026-01-31,100,EUR,,,"
    report = ingest_file(with_customers, write_csv(tmp_path / "h.csv", history))
    assert report.reasons == {"conflicts_with_ledger": 1}
    assert report.accepted == 1
    with with_customers.begin() as connection:
        _, latest = quarantine_overview(connection, reason="conflicts_with_ledger", limit=1)
    assert "P2:settled" in latest["detail"][0]
    payment = frame_of(with_customers, "payments").row(0, named=True)
    assert (payment["invoice_id"], payment["amount_minor"], payment["method"]) == ("P1", 3000, "card")


def _utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without a zone; the ledger writes them in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ingest_on(ledger: Ledger, path: Path, day: date, entity: Entity = Entity.INVOICES) -> IngestReport:
    return ingest_table(ledger, read_file(path), mapping=Mapping(entity=entity), business_date=day)[-1]


def test_re_running_an_older_day_never_rolls_customers_back(ledger: Ledger, tmp_path: Path) -> None:
    header = "customer_id,email,phone,country,sms_consent"
    day1 = write_csv(tmp_path / "d1.csv", f"{header}\nK1,old@example.com,+14155552671,US,true")
    day2 = write_csv(tmp_path / "d2.csv", f"{header}\nK1,new@example.com,+14155552671,US,false")
    _ingest_on(ledger, day1, date(2026, 1, 1), Entity.CUSTOMERS)
    _ingest_on(ledger, day2, date(2026, 1, 2), Entity.CUSTOMERS)
    after_day2 = frame_of(ledger, "customers").row(0, named=True)
    assert _utc(after_day2["sms_opt_out_at"]) == datetime(2026, 1, 2, tzinfo=UTC)
    again = _ingest_on(ledger, day1, date(2026, 1, 1), Entity.CUSTOMERS)
    row = frame_of(ledger, "customers").row(0, named=True)
    assert (again.updated, again.unchanged) == (0, 1)
    assert (row["email"], row["sms_consent"], row["known_on"]) == ("new@example.com", False, date(2026, 1, 2))
    assert row["sms_opt_out_at"] == after_day2["sms_opt_out_at"]
    regranted = _ingest_on(ledger, day1, date(2026, 1, 3), Entity.CUSTOMERS)
    row = frame_of(ledger, "customers").row(0, named=True)
    assert regranted.updated == 1
    assert (row["email"], row["sms_consent"]) == ("old@example.com", True)
    assert row["sms_opt_out_at"] == after_day2["sms_opt_out_at"]


def test_an_older_day_only_fills_what_the_ledger_does_not_know(ledger: Ledger, tmp_path: Path) -> None:
    header = "customer_id,email,name"
    _ingest_on(ledger, write_csv(tmp_path / "d2.csv", f"{header}\nK1,,Newer Name"), date(2026, 1, 2), Entity.CUSTOMERS)
    older = write_csv(tmp_path / "d1.csv", f"{header}\nK1,k1@example.com,Older Name")
    assert _ingest_on(ledger, older, date(2026, 1, 1), Entity.CUSTOMERS).updated == 1
    row = frame_of(ledger, "customers").row(0, named=True)
    assert (row["email"], row["name"], row["known_on"]) == ("k1@example.com", "Newer Name", date(2026, 1, 2))


def test_opt_outs_are_dated_by_the_business_day(ledger: Ledger, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", "customer_id,email,email_opt_out\nK1,k1@example.com,yes")
    _ingest_on(ledger, path, date(2026, 3, 4), Entity.CUSTOMERS)
    assert _utc(frame_of(ledger, "customers")["email_opt_out_at"][0]) == datetime(2026, 3, 4, tzinfo=UTC)


def test_re_running_an_older_history_keeps_the_larger_later_settlement(with_customers: Ledger, tmp_path: Path) -> None:
    day1 = write_csv(tmp_path / "h1.csv", f"{HEADER}\nH1,C1,2026-01-01,2026-01-31,100,EUR,,20,")
    day2 = write_csv(tmp_path / "h2.csv", f"{HEADER}\nH1,C1,2026-01-01,2026-01-31,100,EUR,2026-01-25,100,")
    _ingest_on(with_customers, day1, date(2026, 1, 10))
    _ingest_on(with_customers, day2, date(2026, 1, 26))
    again = _ingest_on(with_customers, day1, date(2026, 1, 10))
    assert (again.updated, again.unchanged, again.effects["settlements_recorded"]) == (0, 1, 0)
    payment = frame_of(with_customers, "payments").row(0, named=True)
    assert (payment["amount_minor"], payment["paid_date"], payment["known_on"]) == (
        10000,
        date(2026, 1, 25),
        date(2026, 1, 26),
    )


def test_a_not_disputed_flag_from_before_the_dispute_neither_closes_nor_reopens_it(
    with_customers: Ledger, tmp_path: Path
) -> None:
    clean = write_csv(tmp_path / "a.csv", f"{HEADER}\nX,C1,2026-01-01,2026-01-31,100,EUR,,,false")
    disputed = write_csv(tmp_path / "b.csv", f"{HEADER}\nX,C1,2026-01-01,2026-01-31,100,EUR,,,true")
    _ingest_on(with_customers, disputed, date(2026, 2, 10))
    early = _ingest_on(with_customers, clean, date(2026, 2, 5))
    assert (early.effects["disputes_resolved"], early.updated) == (0, 0)
    assert frame_of(with_customers, "disputes")["resolved_on"].to_list() == [None]
    _ingest_on(with_customers, clean, date(2026, 2, 20))
    rerun = _ingest_on(with_customers, disputed, date(2026, 2, 10))
    assert (rerun.effects["disputes_opened"], rerun.updated) == (0, 0)
    dispute = frame_of(with_customers, "disputes").row(0, named=True)
    assert (dispute["opened_on"], dispute["resolved_on"]) == (date(2026, 2, 10), date(2026, 2, 20))


def test_identical_copies_share_the_kept_rows_outcome(ledger: Ledger, tmp_path: Path) -> None:
    row = "F1,LATE,2026-01-01,2026-01-31,10,EUR,,,"
    path = write_csv(tmp_path / "fold.csv", f"{HEADER}\n{row}\n{row}")
    report = ingest_file(ledger, path)
    assert (report.accepted, report.quarantined, report.reasons) == (0, 2, {"unknown_customer": 2})
    assert report.folded_duplicates == 1
    with ledger.begin() as connection:
        _, latest = quarantine_overview(connection, reason=None, limit=10)
    details = dict(zip(latest["source_row"], latest["detail"], strict=True))
    assert details[2].startswith("identical to row 1: ")
    ingest_file(ledger, customers_csv(tmp_path / "c.csv", "LATE"), Entity.CUSTOMERS)
    resolved = ingest_file(ledger, path)
    assert (resolved.accepted, resolved.inserted, resolved.unchanged, resolved.quarantined) == (2, 1, 1, 0)
    with ledger.begin() as connection:
        assert quarantine_overview(connection, reason=None, limit=10)[0] == {}


def test_differing_copies_are_all_conflicting_even_when_one_is_invalid(with_customers: Ledger, tmp_path: Path) -> None:
    rows = ["D1,C1,2026-01-01,2026-01-31,10,EUR,,,", "D1,C1,2026-01-01,2026-01-31,ten,EUR,,,"]
    report = ingest_file(with_customers, write_csv(tmp_path / "d.csv", "\n".join([HEADER, *rows])))
    assert (report.accepted, report.reasons) == (0, {"conflicting_duplicate": 2})
    assert frame_of(with_customers, "invoices").is_empty()


def test_values_longer_than_the_ledger_keeps_are_quarantined(with_customers: Ledger, tmp_path: Path) -> None:
    long_name = "Secret Person Name " * 12
    customers = f"customer_id,name,payment_method\nC8,{long_name},card\nC9,Fine,{'m' * 41}\nC10,Fine,card"
    report = ingest_file(with_customers, write_csv(tmp_path / "c.csv", customers), Entity.CUSTOMERS)
    assert (report.accepted, report.reasons) == (1, {"value_too_long": 2})
    invoices = f"{HEADER}\n{'L' * 65},C1,2026-01-01,2026-01-31,10,EUR,,,\nOK,C1,2026-01-01,2026-01-31,10,EUR,,,"
    report = ingest_file(with_customers, write_csv(tmp_path / "i.csv", invoices))
    assert (report.accepted, report.reasons) == (1, {"value_too_long": 1})
    payments = f"payment_id,invoice_id,amount,currency,paid_date,method\nP1,OK,1,EUR,2026-01-05,{'x' * 41}"
    report = ingest_file(with_customers, write_csv(tmp_path / "p.csv", payments), Entity.PAYMENTS)
    assert report.reasons == {"value_too_long": 1}
    with with_customers.begin() as connection:
        _, latest = quarantine_overview(connection, reason="value_too_long", limit=10)
    assert not any("Secret" in detail for detail in latest["detail"])
    assert "name has 227 characters, the ledger keeps at most 200" in latest["detail"].to_list()


def test_a_database_error_while_writing_carries_no_row_values(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should a check ever let a bad row through, the database's message (which quotes values) stays out."""
    monkeypatch.setattr(apply_module, "require_known", lambda frame, *_: ValidationResult(frame, empty_quarantine()))
    path = write_csv(tmp_path / "i.csv", f"{HEADER}\nX,SECRET-CUSTOMER,2026-01-01,2026-01-31,10,EUR,,,")
    before = snapshot(ledger)
    with pytest.raises(LedgerWriteError) as raised:
        ingest_file(ledger, path)
    assert "SECRET" not in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__
    if ledger.dialect == "postgresql":
        assert "SQLSTATE 23503" in str(raised.value)
    assert snapshot(ledger) == before


def test_parquet_with_nested_extras_and_out_of_range_integer_amounts(with_customers: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "i.parquet"
    pl.DataFrame(
        {
            "invoice_id": ["OK", "HUGE", "WIDE"],
            "customer_id": ["C1"] * 3,
            "issue_date": [date(2026, 1, 1)] * 3,
            "due_date": [date(2026, 1, 31)] * 3,
            "amount": pl.Series([10, 200_000_000_000_000_000, 2**63 + 5], dtype=pl.UInt64),
            "currency": ["USD"] * 3,
            "tags": [[1, 2], [], None],
            "meta": [{"a": 1}, {"a": 2}, {"a": 3}],
        }
    ).write_parquet(path)
    report = ingest_file(with_customers, path)
    assert (report.accepted, report.reasons) == (1, {"invalid_amount": 2})
    invoice = frame_of(with_customers, "invoices").row(0, named=True)
    assert (invoice["amount_minor"], json.loads(invoice["attributes"])) == (1000, {"tags": [1, 2], "meta": {"a": 1}})


def test_other_scripts_digits_are_not_amounts(with_customers: Ledger, tmp_path: Path) -> None:
    rows = [
        "U1,C1,2026-01-01,2026-01-31,１００,EUR,,,",
        "U2,C1,2026-01-01,2026-01-31,1.５,EUR,,,",
        "U3,C1,2026-01-01,2026-01-31,٣,EUR,,,",
    ]
    report = ingest_file(with_customers, write_csv(tmp_path / "u.csv", "\n".join([HEADER, *rows])))
    assert (report.accepted, report.reasons) == (0, {"invalid_amount": 3})


def test_a_source_description_longer_than_the_ledger_keeps_is_shortened(ledger: Ledger, tmp_path: Path) -> None:
    table = read_file(customers_csv(tmp_path / "c.csv", "C1"))
    long_source = "/" + "deeply/nested/" * 50 + "customers.csv"
    table.source = long_source
    report = ingest_table(ledger, table, mapping=Mapping(entity=Entity.CUSTOMERS))[-1]
    stored = frame_of(ledger, "customers")["source"][0]
    assert report.inserted == 1
    assert len(stored) == 500
    assert stored.endswith("customers.csv")


def test_amounts_that_do_not_fit_the_mapping_s_number_format_are_quarantined(
    with_customers: Ledger, tmp_path: Path
) -> None:
    """``1.000`` with a decimal comma was stored as 1.00 (a 1,000x error): it is quarantined, never guessed."""
    mapping = tmp_path / "comma.yaml"
    mapping.write_text("delimiter: ';'\nformat: {decimal_separator: ','}\n")
    invoices = "invoice_id;customer_id;issue_date;due_date;amount;currency\n"
    invoices += "GOOD;C1;2026-01-01;2026-01-31;1000,50;EUR\nMISFIT;C1;2026-01-01;2026-01-31;1.000;EUR\n"
    report = ingest_file(with_customers, write_csv(tmp_path / "i.csv", invoices), mapping=load_mapping(mapping))
    assert (report.accepted, report.reasons) == (1, {"invalid_amount": 1})
    assert dict(frame_of(with_customers, "invoices").select("invoice_id", "amount_minor").rows()) == {"GOOD": 100050}
    with with_customers.begin() as connection:
        _, latest = quarantine_overview(connection, reason="invalid_amount", limit=10)
    assert latest["detail"].to_list() == [
        "amount '1.000' is not a number written with decimal separator ',', no thousands separator"
    ]


def test_a_list_typed_customer_id_with_derived_customers_is_an_unusable_file(ledger: Ledger, tmp_path: Path) -> None:
    """It crashed with InvalidOperationError in derive_customers; now the file is refused, naming the column."""
    path = tmp_path / "lists.parquet"
    pl.DataFrame(
        {
            "invoice_id": ["I1"],
            "customer_id": [["C1", "C2"]],
            "issue_date": ["2026-01-01"],
            "due_date": ["2026-01-31"],
            "amount": ["10.00"],
            "currency": ["EUR"],
        }
    ).write_parquet(path)
    before = snapshot(ledger)
    with pytest.raises(UnusableInputError, match=rf"^{path}: .*column 'customer_id' \(customer_id\) has type List"):
        ingest_table(ledger, read_file(path), mapping=Mapping(customers={}))
    assert snapshot(ledger) == before


def test_an_overpayment_is_a_credit_on_the_customer_not_absorbed(with_customers: Ledger, tmp_path: Path) -> None:
    """A payment of 5,000 on an invoice of 100: the invoice's balance is 0 and the 4,900 excess is the
    customer's credit, in the ingest report and in the ledger."""
    invoices = "invoice_id,customer_id,issue_date,due_date,amount,currency\n"
    invoices += "I1,C1,2026-01-01,2026-01-31,100.00,EUR\nI2,C1,2026-01-01,2026-01-31,50.00,EUR\n"
    invoices += "I3,C2,2026-01-01,2026-01-31,10.00,EUR\n"
    ingest_file(with_customers, write_csv(tmp_path / "i.csv", invoices))
    payments = "payment_id,invoice_id,amount,currency,paid_date\n"
    payments += "P1,I1,5000.00,EUR,2026-01-10\nP2,I3,4.00,EUR,2026-01-10\n"
    report = ingest_file(with_customers, write_csv(tmp_path / "p.csv", payments), Entity.PAYMENTS)
    assert report.effects["overpaid_invoices"] == 1
    assert report.credits == [
        {"currency": "EUR", "overpaid_invoices": 1, "customers": 1, "credit_minor": 490000, "credit": "4900.00"}
    ]
    assert any("4900.00 EUR is a credit on 1 customer" in warning for warning in report.warnings)
    assert json.loads(json.dumps(report.to_dict()))["credits"][0]["credit"] == "4900.00"
    with with_customers.begin() as connection:
        balances = dict(
            receivables.open_invoices(connection, date(2026, 2, 1)).select("invoice_id", "balance_minor").rows()
        )
        assert balances == {"I2": 5000, "I3": 600}
        assert receivables.overpaid_invoices(connection).rows() == [("I1", "C1", "EUR", 10000, 500000, 490000)]
        assert receivables.customer_credits(connection).rows() == [("C1", "EUR", 1, 490000)]
    more = "payment_id,invoice_id,amount,currency,paid_date\nP3,I3,6.00,EUR,2026-01-11\n"
    settled = ingest_file(with_customers, write_csv(tmp_path / "p2.csv", more), Entity.PAYMENTS)
    assert (settled.effects["overpaid_invoices"], settled.credits) == (0, [])


def test_an_invoice_history_reporting_more_paid_than_invoiced_is_a_credit(
    with_customers: Ledger, tmp_path: Path
) -> None:
    history = f"{HEADER}\nH1,C2,2026-01-01,2026-01-31,100,JPY,2026-01-10,150,\nH2,C2,2026-01-01,2026-01-31,5,JPY,,,"
    report = ingest_file(with_customers, write_csv(tmp_path / "h.csv", history))
    assert report.credits == [
        {"currency": "JPY", "overpaid_invoices": 1, "customers": 1, "credit_minor": 50, "credit": "50"}
    ]
    with with_customers.begin() as connection:
        assert receivables.customer_credits(connection).rows() == [("C2", "JPY", 1, 50)]
