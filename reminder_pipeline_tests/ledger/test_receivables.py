"""Billing and receivables queries, read straight from rows written to the ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import Connection, insert, select

from reminder_pipeline.core.canonical import HISTORY_PAYMENT_METHOD, Channel
from reminder_pipeline.core.channels import CHANNELS, reachable
from reminder_pipeline.core.planning.plan import CREDIT_SCHEMA
from reminder_pipeline.ledger import receivables, schema
from reminder_pipeline.ledger.planning import invoices_for_planning, receivables_for_planning
from reminder_pipeline.ledger.store import Ledger

JAN, FEB, MAR = date(2026, 1, 10), date(2026, 2, 10), date(2026, 3, 10)
OPTED_OUT = datetime(2026, 1, 1, tzinfo=UTC)


CONTACT = ("email", "phone", "sms_consent", "email_opt_out_at", "sms_opt_out_at")


def _customers(connection: Connection, *rows: dict[str, object]) -> None:
    connection.execute(insert(schema.customers), [{"source": "test", **dict.fromkeys(CONTACT), **row} for row in rows])


def _invoice(invoice_id: str, customer_id: str, issued: date, amount: int, currency: str = "EUR") -> dict[str, object]:
    return {
        "invoice_id": invoice_id,
        "customer_id": customer_id,
        "issue_date": issued,
        "due_date": date(issued.year, issued.month, 28),
        "amount_minor": amount,
        "currency": currency,
        "source": "test",
    }


def _payment(
    payment_id: str, invoice_id: str, customer_id: str, amount: int, paid: date, method: str | None = None
) -> dict[str, object]:
    return {
        "payment_id": payment_id,
        "invoice_id": invoice_id,
        "customer_id": customer_id,
        "amount_minor": amount,
        "currency": "EUR",
        "paid_date": paid,
        "method": method,
        "source": "test",
    }


@pytest.fixture
def billed(ledger: Ledger) -> Ledger:
    """Three customers' invoices: one half paid, one paid twice over by two reports of the same money,
    one overpaid, one issued only in March, and a JPY invoice left open."""
    with ledger.begin() as connection:
        _customers(
            connection,
            {"customer_id": "A", "email": "a@example.com", "phone": "+4915112345678", "sms_consent": True},
            {"customer_id": "B", "email": "b@example.com", "email_opt_out_at": OPTED_OUT, "phone": "+12025550143"},
            {"customer_id": "C", "phone": "+33612345678", "sms_consent": True, "sms_opt_out_at": OPTED_OUT},
        )
        connection.execute(
            insert(schema.invoices),
            [
                _invoice("A-1", "A", JAN, 10_000),
                _invoice("A-2", "A", FEB, 5_000),
                _invoice("A-3", "A", MAR, 2_000),
                _invoice("B-1", "B", JAN, 30_000),
                _invoice("C-1", "C", FEB, 700, "JPY"),
            ],
        )
        connection.execute(
            insert(schema.payments),
            [
                _payment("P1", "A-1", "A", 4_000, JAN),
                # the history file reports 6000 paid on A-2 and the feed records the same 6000 as two payments
                _payment("A-2:settled", "A-2", "A", 6_000, FEB, method=HISTORY_PAYMENT_METHOD),
                _payment("P2", "A-2", "A", 3_000, FEB),
                _payment("P3", "A-2", "A", 3_000, MAR),
                _payment("P4", "B-1", "B", 30_000, FEB),
            ],
        )
    return ledger


def test_open_invoices_count_the_payments_made_by_the_day(billed: Ledger) -> None:
    with billed.begin() as connection:
        in_january = receivables.open_invoices(connection, date(2026, 1, 31))
        in_february = receivables.open_invoices(connection, date(2026, 2, 28))
        ever = receivables.open_invoices(connection, receivables.ALL_TIME)
    assert in_january.sort("invoice_id").select("invoice_id", "paid_minor", "balance_minor").rows() == [
        ("A-1", 4_000, 6_000),
        ("B-1", 0, 30_000),
    ]
    assert sorted(in_february["invoice_id"]) == ["A-1", "C-1"], "B-1 paid in February, A-2 paid by its report"
    assert sorted(ever["invoice_id"]) == ["A-1", "A-3", "C-1"]
    assert in_january.schema == receivables.OPEN_INVOICE_SCHEMA


def test_open_balances_of_some_invoices_are_those_open_invoices_has_for_all_time(billed: Ledger) -> None:
    with billed.begin() as connection:
        ever = receivables.open_invoices(connection, receivables.ALL_TIME).select("invoice_id", "balance_minor")
        some = receivables.open_balances(connection, pl.Series(["A-1", "A-2", "B-1", "C-1", "C-1", None, "missing"]))
        nothing = receivables.open_balances(connection, pl.Series([], dtype=pl.String))
    assert some.sort("invoice_id").rows() == ever.filter(pl.col("invoice_id") != "A-3").sort("invoice_id").rows()
    assert some.sort("invoice_id").rows() == [("A-1", 6_000), ("C-1", 700)]
    assert nothing.is_empty()
    assert nothing.schema == some.schema


def test_a_reported_settlement_and_the_recorded_payments_are_the_same_money(billed: Ledger) -> None:
    """A-2 (5000) was reported paid 6000 and recorded as 3000 + 3000: paid 6000, never 12000."""
    with billed.begin() as connection:
        overpaid = receivables.overpaid_invoices(connection)
        by_february = connection.execute(
            receivables.paid_per_invoice(date(2026, 2, 28)).select().order_by("invoice_id")
        ).all()
    assert overpaid.rows() == [("A-2", "A", "EUR", 5_000, 6_000, 1_000)]
    assert overpaid.schema == receivables.OVERPAID_SCHEMA
    assert [tuple(row) for row in by_february] == [("A-1", 4_000), ("A-2", 6_000), ("B-1", 30_000)]


def test_overpaid_invoices_of_some_invoices_only(billed: Ledger) -> None:
    with billed.begin() as connection:
        assert receivables.overpaid_invoices(connection, pl.Series(["A-1", "B-1"])).is_empty()
        assert receivables.overpaid_invoices(connection, pl.Series(["A-2", None]))["invoice_id"].to_list() == ["A-2"]
        nothing = receivables.overpaid_invoices(connection, pl.Series([], dtype=pl.String))
    assert nothing.is_empty()
    assert nothing.schema == receivables.OVERPAID_SCHEMA


def test_customer_credits_add_up_the_excess_per_customer_and_currency(billed: Ledger) -> None:
    with billed.begin() as connection:
        connection.execute(insert(schema.payments), [_payment("P5", "A-1", "A", 7_000, MAR)])
        credits = receivables.customer_credits(connection)
    assert credits.rows() == [("A", "EUR", 2, 2_000)]


@pytest.mark.parametrize("day", [JAN, date(2026, 2, 11), MAR, date(2026, 3, 11)])
def test_planning_reads_the_open_invoices_and_the_credits_of_a_day_in_one_pass(billed: Ledger, day: date) -> None:
    """Issued by the day and not paid before it, with the balance now (never below zero); and the credits as
    ``customer_credits`` adds them up."""
    with billed.begin() as connection:
        connection.execute(insert(schema.payments), [_payment("P5", "A-1", "A", 7_000, MAR)])
        invoices, credits = receivables_for_planning(connection, day)
        alone = invoices_for_planning(connection, day)
        paid_then = connection.execute(receivables.paid_per_invoice(day - timedelta(days=1)).select()).all()
        paid_now = connection.execute(receivables.paid_per_invoice().select()).all()
        issued = connection.execute(select(schema.invoices.c["invoice_id", "issue_date", "amount_minor"])).all()
        expected_credits = receivables.customer_credits(connection).select(list(CREDIT_SCHEMA))
    then, now = dict(paid_then), dict(paid_now)
    expected = sorted(
        (invoice, max(amount - now.get(invoice, 0), 0))
        for invoice, issued_on, amount in issued
        if issued_on <= day and amount - then.get(invoice, 0) > 0
    )
    assert invoices.select("invoice_id", "balance_minor").sort("invoice_id").rows() == expected
    assert invoices.sort("invoice_id").equals(alone.sort("invoice_id"))
    assert invoices.columns == [c for c in receivables.INVOICE_LINE_SCHEMA if c != "amount_minor"]
    assert credits.equals(expected_credits)
    assert credits.rows() == [("A", "EUR", 2_000)]


def test_invoice_lines_show_the_balance_now_never_below_zero(billed: Ledger) -> None:
    with billed.begin() as connection:
        lines = receivables.invoice_lines(connection, pl.Series(["A-2", "A-1", "C-1", "missing"]))
        none = receivables.invoice_lines(connection, pl.Series(["missing"]))
    assert lines.sort("invoice_id").select("invoice_id", "amount_minor", "balance_minor").rows() == [
        ("A-1", 10_000, 6_000),
        ("A-2", 5_000, 0),
        ("C-1", 700, 700),
    ]
    assert lines.schema == receivables.INVOICE_LINE_SCHEMA
    assert none.is_empty()
    assert none.schema == receivables.INVOICE_LINE_SCHEMA


def test_invoiced_and_received_per_currency_over_a_range(billed: Ledger) -> None:
    with billed.begin() as connection:
        invoiced = receivables.invoiced(connection, JAN, FEB)
        in_january = receivables.payments_received(connection, JAN, date(2026, 1, 31))
        since = receivables.payments_received(connection, date(2026, 2, 11), date(2026, 3, 31))
    assert invoiced.rows() == [("EUR", 3, 45_000), ("JPY", 1, 700)]
    assert in_january.rows() == [("EUR", 1, 4_000)]
    assert since.rows() == [("EUR", 1, 3_000)]
    assert invoiced.schema == {"currency": pl.String(), "invoices": pl.Int64(), "balance_minor": pl.Int64()}


def test_row_counts_of_the_billing_tables(billed: Ledger) -> None:
    with billed.begin() as connection:
        counts = receivables.row_counts(connection)
    assert counts == {
        "customers": 3,
        "invoices": 5,
        "payments": 5,
        "disputes": 0,
        "promises_to_pay": 0,
        "quarantine": 0,
    }


def test_reachability_applies_consent_and_opt_outs(billed: Ledger) -> None:
    """A: email and SMS. B: opted out of email, no SMS consent. C: consented to SMS, then opted out."""
    with billed.begin() as connection:
        reach = receivables.customer_reachability(connection)
    assert reach == {"customers": 3, "reachable_by_email": 1, "reachable_by_sms": 1, "unreachable": 2}


def test_reachability_counts_what_the_channel_registry_reaches(ledger: Ledger) -> None:
    """The SQL count is the registry's rule (core.channels.reachable), refusals of the current address included."""
    a, p = "a@example.com", "+4915112345678"
    contacts = [
        {"email": a, "email_refused": a},
        {"email": a, "email_refused": "old@example.com"},
        {"phone": p, "sms_consent": True, "phone_refused": p},
        {"phone": p, "sms_consent": True, "phone_refused": "+4915100000000"},
        {"phone": p, "sms_consent": False},
        {"email": a, "phone": p, "sms_consent": True, "email_opt_out_at": OPTED_OUT},
        {},
    ]
    rows = [{"customer_id": f"K{i}", "email_refused": None, "phone_refused": None, **c} for i, c in enumerate(contacts)]
    with ledger.begin() as connection:
        _customers(connection, *rows)
        reach = receivables.customer_reachability(connection)
        stored = pl.DataFrame(connection.execute(select(schema.customers)).mappings().all())
    by = {channel: stored.select(reachable(channel)).to_series() for channel in CHANNELS}
    assert reach == {
        "customers": len(rows),
        **{f"reachable_by_{channel.value}": int(r.sum()) for channel, r in by.items()},
        "unreachable": int((~by[Channel.EMAIL] & ~by[Channel.SMS]).sum()),
    }
    assert reach == {"customers": 7, "reachable_by_email": 1, "reachable_by_sms": 2, "unreachable": 4}


def test_payment_inconsistencies_find_what_ingestion_never_writes(billed: Ledger) -> None:
    with billed.begin() as connection:
        assert set(receivables.payment_inconsistencies(connection).values()) == {0}
        connection.execute(
            insert(schema.payments),
            [
                _payment("X1", "A-1", "B", 100, MAR),
                {**_payment("X2", "C-1", "C", 1, MAR), "currency": "EUR"},
                _payment("B-1:settled", "A-1", "A", 100, MAR, method=HISTORY_PAYMENT_METHOD),
                _payment("X3:settled", "B-1", "B", 100, MAR),
            ],
        )
        found = receivables.payment_inconsistencies(connection)
    assert found == {
        "customer_differs_from_invoice": 1,
        "currency_differs_from_invoice": 1,
        "misfiled_settlements": 2,
    }
