"""Ingestion into a real ledger, on SQLite and on PostgreSQL (the ``ledger`` fixture runs both)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.mapping import UnusableInputError, load_mapping
from reminder_pipeline.ingestion.files import read_file
from reminder_pipeline.ingestion.service import ingest_table
from reminder_pipeline.ledger import queries
from reminder_pipeline.ledger.quarantine import quarantine_overview
from reminder_pipeline.ledger.store import Ledger
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
    assert invoices.effects == {"settlements_recorded": 2466, "disputes_opened": 561, "disputes_resolved": 0}
    with ledger.begin() as connection:
        counts = queries.row_counts(connection)
        assert queries.open_invoices(connection, date(2015, 1, 1)).is_empty()
        open_mid_2013 = queries.open_invoices(connection, date(2013, 6, 30))
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
    assert settled.effects == {"settlements_recorded": 1, "disputes_opened": 0, "disputes_resolved": 1}
    dispute = frame_of(with_customers, "disputes").row(0, named=True)
    assert (dispute["opened_on"], dispute["resolved_on"]) == (date(2026, 2, 3), date(2026, 2, 10))
    with with_customers.begin() as connection:
        assert queries.open_invoices(connection, date(2026, 2, 9))["invoice_id"].to_list() == ["X"]
        assert queries.open_invoices(connection, date(2026, 2, 10)).is_empty()


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
        balance = queries.open_invoices(connection, date(2026, 2, 28))["balance_minor"].to_list()
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
        before_export = queries.open_invoices(connection, date(2026, 2, 28))
        after_export = queries.open_invoices(connection, date(2026, 3, 1))
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
        assert queries.open_invoices(connection, date(2026, 1, 20))["balance_minor"].to_list() == [4000]
        assert queries.overpaid_invoices(connection).is_empty()
    more = "payment_id,invoice_id,amount,currency,paid_date\nP3,X,40.00,EUR,2026-01-25"
    ingest_file(with_customers, write_csv(tmp_path / "p2.csv", more), Entity.PAYMENTS)
    with with_customers.begin() as connection:
        assert queries.open_invoices(connection, date(2026, 1, 25)).is_empty()


def test_a_history_dispute_date_dates_the_dispute(with_customers: Ledger, tmp_path: Path) -> None:
    row = f"{HEADER},dispute_date\nX,C1,2026-01-01,2026-01-31,100.00,EUR,,,yes,2026-01-12"
    ingest_file(with_customers, write_csv(tmp_path / "d.csv", row))
    assert frame_of(with_customers, "disputes")["opened_on"].to_list() == [date(2026, 1, 12)]
