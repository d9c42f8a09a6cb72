"""The risk domain's daily results in the ledger: risk scores, invoice predictions and customer segments,
each day's rows replaced whenever the day runs again."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import Connection, Table, delete, select

from reminder_pipeline.ledger.bulk import fetch, insert, json_array, schema_of
from reminder_pipeline.ledger.schema import customer_segments, invoice_predictions, risk_scores

SCORE_SCHEMA = schema_of(risk_scores, ["customer_id", "p_late", "expected_days_late", "risk_band", "reasons", "scorer"])
SEGMENT_SCHEMA = schema_of(
    customer_segments, ["customer_id", "segment", "risk_band", "currency", "open_balance_minor", "p_late"]
)


def _replace_day(connection: Connection, table: Table, day: date, rows: pl.DataFrame) -> None:
    """Re-running a day replaces its rows: one answer per day, however often it runs."""
    connection.execute(delete(table).where(table.c.business_date == day))
    insert(connection, table, rows.with_columns(pl.lit(day).alias("business_date")))


def write_scores(
    connection: Connection, day: date, customers: pl.DataFrame, invoices: pl.DataFrame, scorer: str
) -> None:
    _replace_day(
        connection,
        risk_scores,
        day,
        customers.select(
            "customer_id",
            "p_late",
            "expected_days_late",
            "risk_band",
            json_array(pl.col("reasons")).alias("reasons"),
            pl.lit(scorer).alias("scorer"),
            pl.col("open_invoices").cast(pl.Int64),
            "predicted_payment_date",
        ),
    )
    _replace_day(
        connection,
        invoice_predictions,
        day,
        invoices.select(
            "invoice_id",
            "customer_id",
            "p_late",
            "expected_days_late",
            "predicted_payment_date",
            pl.lit(scorer).alias("scorer"),
        ),
    )


def read_scores(connection: Connection, day: date) -> pl.DataFrame:
    t = risk_scores
    return fetch(connection, select(*[t.c[c] for c in SCORE_SCHEMA]).where(t.c.business_date == day), SCORE_SCHEMA)


def write_segments(connection: Connection, day: date, segments: pl.DataFrame, policy_version: str) -> None:
    _replace_day(
        connection,
        customer_segments,
        day,
        segments.with_columns(
            pl.lit(policy_version).alias("policy_version"),
            pl.col("open_invoices").cast(pl.Int64),
            pl.col("max_days_overdue").cast(pl.Int64),
        ),
    )


def read_segments(connection: Connection, day: date) -> pl.DataFrame:
    t = customer_segments
    return fetch(connection, select(*[t.c[c] for c in SEGMENT_SCHEMA]).where(t.c.business_date == day), SEGMENT_SCHEMA)
