"""The billing history and contacts as the ledger hands them to features and segmentation."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import insert

from reminder_pipeline.core import history as core_history
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.bulk import schema_of
from reminder_pipeline.ledger.history import CONTACT_COLUMNS, load_contacts, load_history
from reminder_pipeline.ledger.store import Ledger


def test_the_core_history_columns_are_the_ledger_columns_types_and_all() -> None:
    """The history is read typed by the tables: the core's contract must not cast what the ledger holds."""
    for columns, table in [
        (core_history.CUSTOMER_COLUMNS, schema.customers),
        (core_history.INVOICE_COLUMNS, schema.invoices),
        (core_history.PAYMENT_COLUMNS, schema.payments),
        (core_history.DISPUTE_COLUMNS, schema.disputes),
        (core_history.PROMISE_COLUMNS, schema.promises_to_pay),
    ]:
        assert schema_of(table, list(columns)) == columns, table.name


def test_history_and_contacts_come_back_as_stored(ledger: Ledger) -> None:
    opted_out = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    with ledger.begin() as connection:
        connection.execute(
            insert(schema.customers).values(
                customer_id="A", country="DE", email="a@example.com", sms_opt_out_at=opted_out, source="t"
            )
        )
        connection.execute(
            insert(schema.invoices).values(
                invoice_id="A-1",
                customer_id="A",
                issue_date=date(2026, 1, 1),
                due_date=date(2026, 1, 31),
                amount_minor=12_345,
                currency="EUR",
                source="t",
            )
        )
        history = load_history(connection)
        contacts = load_contacts(connection)
    assert history.invoices.rows() == [("A-1", "A", date(2026, 1, 1), date(2026, 1, 31), 12_345, "EUR")]
    assert history.customers.select("customer_id", "country").rows() == [("A", "DE")]
    assert history.payments.is_empty()
    assert history.payments.schema == core_history.PAYMENT_COLUMNS
    assert contacts.schema == schema_of(schema.customers, CONTACT_COLUMNS)
    assert contacts.row(0, named=True) | {"sms_opt_out_at": None} == {
        "customer_id": "A",
        "email": "a@example.com",
        "phone": None,
        "preferred_channel": None,
        "email_opt_out_at": None,
        "sms_opt_out_at": None,
        "sms_consent": None,
    }
    assert contacts["sms_opt_out_at"].to_list() == [opted_out]
    assert contacts.schema["sms_opt_out_at"] == pl.Datetime("us", "UTC")
