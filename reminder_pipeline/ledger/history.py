"""The ledger's billing history as frames for features and models."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, select

from reminder_pipeline.core.history import (
    CUSTOMER_COLUMNS,
    DISPUTE_COLUMNS,
    INVOICE_COLUMNS,
    PAYMENT_COLUMNS,
    PROMISE_COLUMNS,
    History,
)
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.bulk import fetch


def _all(connection: Connection, table_name: str, columns: dict[str, pl.DataType]) -> pl.DataFrame:
    table = schema.metadata.tables[table_name]
    return fetch(connection, select(*[table.c[c] for c in columns]), columns)


def load_history(connection: Connection) -> History:
    return History.of(
        customers=_all(connection, "customers", CUSTOMER_COLUMNS),
        invoices=_all(connection, "invoices", INVOICE_COLUMNS),
        payments=_all(connection, "payments", PAYMENT_COLUMNS),
        disputes=_all(connection, "disputes", DISPUTE_COLUMNS),
        promises=_all(connection, "promises_to_pay", PROMISE_COLUMNS),
    )


def load_contacts(connection: Connection) -> pl.DataFrame:
    """What segmentation needs to know about reaching each customer."""
    c = schema.customers
    columns = {
        "customer_id": pl.String(),
        "email": pl.String(),
        "phone": pl.String(),
        "preferred_channel": pl.String(),
        "email_opt_out_at": pl.Datetime("us", "UTC"),
        "sms_opt_out_at": pl.Datetime("us", "UTC"),
        "sms_consent": pl.Boolean(),
    }
    return fetch(connection, select(*[c.c[name] for name in columns]), columns)
