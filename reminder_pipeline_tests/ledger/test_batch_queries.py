"""The ledger reads and writes run per batch (a claim's last look, a payment batch, a reply) take the batch's
own keys on SQLite, never a walk over a big table.

SQLite plans without statistics. Offered a low-selectivity index or an aggregate over a whole table it
took them, once per call: the last look summed every payment ever recorded to read a hundred invoices'
balances (120 ms a claim at 30,000 payments), a payment batch walked the status index over every message
not yet handed over (12 ms at 20,000). Each plan is checked where the code runs it, with its parameters.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import insert, text

from reminder_pipeline.ledger import planning
from reminder_pipeline.ledger.listening import customers_with_email, customers_with_phone, open_invoices_of
from reminder_pipeline.ledger.planning import open_disputes, promises
from reminder_pipeline.ledger.receivables import invoice_lines
from reminder_pipeline.ledger.schema import customers, disputes, invoices, promises_to_pay
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger
from reminder_pipeline_tests.ledger.plans import plans, plans_of


@pytest.fixture
def sqlite_ledger(tmp_path: Path) -> Ledger:
    """A SQLite ledger with one customer owing one invoice (a read of no invoice runs no query)."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    upgrade_ledger(url)
    ledger = Ledger(url)
    with ledger.begin() as connection:
        connection.execute(insert(customers).values(customer_id="C1", source="test"))
        connection.execute(
            insert(invoices).values(
                invoice_id="I1",
                customer_id="C1",
                issue_date=date(2026, 3, 1),
                due_date=date(2026, 3, 15),
                amount_minor=10_000,
                currency="EUR",
                source="test",
            )
        )
    return ledger


def _reads_payments_by_invoice(found: list[str]) -> None:
    payment_plans = plans_of(found, "payments")
    assert payment_plans, found
    for plan in payment_plans:
        assert "SEARCH payments USING INDEX ix_payments_invoice_id (invoice_id=?)" in plan, plan
        assert "SCAN payments" not in plan, plan


def test_the_last_looks_balances_sum_the_invoices_own_payments_not_every_payment(sqlite_ledger: Ledger) -> None:
    with sqlite_ledger, sqlite_ledger.begin() as connection, plans(connection) as found:
        lines = invoice_lines(connection, pl.Series(["I1", "I2"]))
    assert lines["balance_minor"].to_list() == [10_000]
    _reads_payments_by_invoice(found)


def test_a_replys_open_invoices_sum_the_customers_own_payments_not_every_payment(sqlite_ledger: Ledger) -> None:
    with sqlite_ledger, sqlite_ledger.begin() as connection, plans(connection) as found:
        assert open_invoices_of(connection, "C1") == ["I1"]
    _reads_payments_by_invoice(found)


def test_the_last_look_reads_its_customers_promises_not_every_promise(sqlite_ledger: Ledger) -> None:
    with sqlite_ledger, sqlite_ledger.begin() as connection:
        connection.execute(
            insert(promises_to_pay).values(
                promise_id="PR1",
                customer_id="C1",
                promised_date=date(2026, 3, 20),
                made_on=date(2026, 3, 10),
                source="test",
            )
        )
        with plans(connection) as found:
            theirs = promises(connection, pl.Series(["C1", "C2"]))
    assert theirs["customer_id"].to_list() == ["C1"]
    promise_plans = plans_of(found, "promises_to_pay")
    assert promise_plans, found
    for plan in promise_plans:
        assert "ix_promises_to_pay_customer_id (customer_id=?)" in plan, plan


def _each_plan_of(found: list[str], table: str, searches: str) -> None:
    table_plans = plans_of(found, table)
    assert table_plans, found
    for plan in table_plans:
        assert searches in plan, plan


def test_a_replys_sender_is_found_by_the_customers_phone_or_lower_case_email_index(sqlite_ledger: Ledger) -> None:
    """By phone as stored; by email whatever the case of either side (and the reply's spaces)."""
    with sqlite_ledger, sqlite_ledger.begin() as connection:
        connection.execute(
            insert(customers),
            [
                {"customer_id": "C2", "phone": "+15550100", "email": "Ana.Ruiz@Example.COM", "source": "test"},
                {"customer_id": "C3", "phone": "+15550101", "email": "ana.ruiz@example.com", "source": "test"},
            ],
        )
        with plans(connection) as by_phone:
            assert customers_with_phone(connection, ["+15550100"]) == ["C2"]
        with plans(connection) as by_email:
            assert customers_with_email(connection, " ANA.ruiz@example.com ") == ["C2", "C3"]
            assert customers_with_email(connection, "ana.ruiz@example.co") == []
    _each_plan_of(by_phone, "customers", "SEARCH customers USING INDEX ix_customers_phone (phone=?)")
    _each_plan_of(by_email, "customers", "SEARCH customers USING INDEX ix_customers_email_lower (<expr>=?)")


def test_the_last_look_reads_its_invoices_disputes_not_every_dispute(
    sqlite_ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Of the invoices asked about, those with a dispute still open on the day (one resolved later counts,
    one resolved by then does not), each once, however many queries name them; a dispute of another
    invoice is not read at all."""
    with sqlite_ledger, sqlite_ledger.begin() as connection:
        columns = "customer_id, issue_date, due_date, amount_minor, currency, source"
        like_i1 = (
            f"INSERT INTO invoices (invoice_id, {columns}) SELECT :id, {columns} FROM invoices WHERE invoice_id = 'I1'"
        )
        connection.execute(text(like_i1), [{"id": f"I{number}"} for number in (2, 3, 4)])
        for dispute_id, invoice_id, resolved_on in [
            ("D1", "I1", None),
            ("D2", "I1", date(2026, 3, 5)),
            ("D3", "I2", date(2026, 3, 20)),
            ("D4", "I3", date(2026, 3, 5)),
            ("D5", "I4", None),
        ]:
            connection.execute(
                insert(disputes).values(
                    dispute_id=dispute_id,
                    invoice_id=invoice_id,
                    opened_on=date(2026, 3, 2),
                    resolved_on=resolved_on,
                    source="test",
                )
            )
        with plans(connection) as found:
            theirs = open_disputes(connection, date(2026, 3, 10), pl.Series(["I1", "I2", "I3", "I9"]))
        every = open_disputes(connection, date(2026, 3, 10))
        monkeypatch.setattr(planning, "KEYS_PER_QUERY", 1)
        one_by_one = open_disputes(connection, date(2026, 3, 10), pl.Series(["I1", "I2", "I3", "I1"]))
        none = open_disputes(connection, date(2026, 3, 10), pl.Series([], dtype=pl.String))
    assert sorted(theirs["invoice_id"].to_list()) == ["I1", "I2"]
    assert sorted(one_by_one["invoice_id"].to_list()) == ["I1", "I2"]
    assert none.is_empty()
    assert sorted(every["invoice_id"].to_list()) == ["I1", "I2", "I4"]
    _each_plan_of(found, "disputes", "SEARCH disputes USING INDEX ix_disputes_invoice_id (invoice_id=?)")
