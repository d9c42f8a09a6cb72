"""Writing and reading a day's risk scores, invoice predictions and segments (rewritten per day)."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import Connection, Table, delete, select

from reminder_pipeline.ledger.bulk import fetch, insert, json_array
from reminder_pipeline.ledger.risk_schema import customer_segments, invoice_predictions, risk_scores


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
    columns = {
        "customer_id": pl.String(),
        "p_late": pl.Float64(),
        "expected_days_late": pl.Float64(),
        "risk_band": pl.String(),
        "reasons": pl.String(),
        "scorer": pl.String(),
    }
    return fetch(connection, select(*[t.c[c] for c in columns]).where(t.c.business_date == day), columns)


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
    columns = {
        "customer_id": pl.String(),
        "segment": pl.String(),
        "risk_band": pl.String(),
        "currency": pl.String(),
        "open_balance_minor": pl.Int64(),
        "p_late": pl.Float64(),
    }
    return fetch(connection, select(*[t.c[c] for c in columns]).where(t.c.business_date == day), columns)
