"""The ledger's billing history as frames for features and models."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl
from sqlalchemy import Connection, Table

from reminder_pipeline.core.history import (
    CUSTOMER_COLUMNS,
    DISPUTE_COLUMNS,
    INVOICE_COLUMNS,
    PAYMENT_COLUMNS,
    PROMISE_COLUMNS,
    History,
)
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.bulk import fetch_table

CONTACT_COLUMNS = [
    "customer_id",
    "email",
    "phone",
    "preferred_channel",
    "email_opt_out_at",
    "sms_opt_out_at",
    "sms_consent",
]


def _all(connection: Connection, table: Table, columns: Iterable[str]) -> pl.DataFrame:
    """``columns`` of every row of ``table``, typed by the table."""
    return fetch_table(connection, table, list(columns))


def load_history(connection: Connection) -> History:
    return History.of(
        customers=_all(connection, schema.customers, CUSTOMER_COLUMNS),
        invoices=_all(connection, schema.invoices, INVOICE_COLUMNS),
        payments=_all(connection, schema.payments, PAYMENT_COLUMNS),
        disputes=_all(connection, schema.disputes, DISPUTE_COLUMNS),
        promises=_all(connection, schema.promises_to_pay, PROMISE_COLUMNS),
    )


def load_contacts(connection: Connection) -> pl.DataFrame:
    """What segmentation needs to know about reaching each customer."""
    return _all(connection, schema.customers, CONTACT_COLUMNS)
