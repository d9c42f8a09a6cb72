"""What a cycle day's statements read from the ledger: the cycle's customers and their courtesy reminders."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
from sqlalchemy import Connection, func, select

from reminder_pipeline.core.policy.config import Tone
from reminder_pipeline.defs.schedules.cycles import cycle_days_on
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.bulk import fetch, fetch_by_keys, schema_of

CYCLE_SCHEMA = schema_of(schema.customers, ["customer_id", "billing_cycle_day"])
COURTESY_COLUMNS = ["customer_id", "invoice_ids", "status", "tone"]


def cycle_customers(connection: Connection, day: date) -> pl.DataFrame:
    """``customer_id, billing_cycle_day`` of the customers whose billing cycle falls on ``day``."""
    c = schema.customers
    query = select(c.c.customer_id, c.c.billing_cycle_day).where(c.c.billing_cycle_day.in_(cycle_days_on(day)))
    return fetch(connection, query, CYCLE_SCHEMA)


def count_cycle_customers(connection: Connection, day: date) -> int:
    c = schema.customers
    query = select(func.count()).select_from(c).where(c.c.billing_cycle_day.in_(cycle_days_on(day)))
    return int(connection.execute(query).scalar_one())


def courtesy_rows(connection: Connection, customer_ids: pl.Series) -> pl.DataFrame:
    """The outbox's courtesy reminders of ``customer_ids``: ``customer_id, invoice_ids`` (a list), ``status``."""
    rows = fetch_by_keys(connection, schema.outbox, "customer_id", customer_ids, COURTESY_COLUMNS)
    courtesy = rows.filter(pl.col("tone") == Tone.COURTESY.value)
    return courtesy.select(
        "customer_id",
        pl.Series("invoice_ids", [json.loads(ids) for ids in courtesy["invoice_ids"]], dtype=pl.List(pl.String)),
        "status",
    )
