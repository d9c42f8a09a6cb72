"""The statement archive's lines: a cycle day's statements of account, one line per open invoice.

The cycle closing on a date holds the invoices issued since the previous cycle date
(:mod:`reminder_pipeline.core.statements.cycles`). A line is an invoice open on the cycle date with
its balance, whether it is overdue, and, for the cycle's new invoices not yet due, whether their
pre-due courtesy reminder has gone out, is waiting in the outbox (as a note of its own, or folded
into the statement sent that day), or is not planned yet (the daily plan sends it when the
ladder's courtesy step comes due).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import polars as pl

from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.core.statements.cycles import previous_cycle_date

S = OutboxStatus
REACHED = (S.SENDING, S.SENT, S.DELIVERED, S.UNKNOWN, S.UNRESOLVED)
"""Courtesy rows a provider has, or may have: they count as sent."""
WAITING = (S.PLANNED, S.RENDERED, S.HELD, S.RETRY)


class Courtesy(StrEnum):
    """Where the pre-due courtesy reminder of a new invoice stands on the cycle date."""

    SENT = "sent"
    WAITING = "waiting"
    """Planned or written, waiting for its send window."""
    NOT_YET = "not_yet"
    """Nothing in the outbox yet: the daily plan sends it when the ladder's courtesy step comes due."""
    NOT_APPLICABLE = "not_applicable"
    """Already due, or not new in this cycle."""


LINE_SCHEMA: dict[str, pl.DataType] = {
    "business_date": pl.Date(),
    "customer_id": pl.String(),
    "invoice_id": pl.String(),
    "issue_date": pl.Date(),
    "due_date": pl.Date(),
    "currency": pl.String(),
    "amount_minor": pl.Int64(),
    "balance_minor": pl.Int64(),
    "new_in_cycle": pl.Boolean(),
    "overdue": pl.Boolean(),
    "days_to_due": pl.Int64(),
    "courtesy": pl.String(),
}


def courtesy_of_invoices(outbox: pl.DataFrame) -> pl.DataFrame:
    """``invoice_id, courtesy``: from courtesy rows (``customer_id, invoice_ids`` as a list, ``status``), the best
    state each invoice's courtesy reminder reached (sent over waiting)."""
    rank = (
        pl.when(pl.col("status").is_in(list(REACHED)))
        .then(2)
        .when(pl.col("status").is_in(list(WAITING)))
        .then(1)
        .otherwise(0)
    )
    return (
        outbox.explode("invoice_ids")
        .rename({"invoice_ids": "invoice_id"})
        .with_columns(rank.alias("rank"))
        .group_by("invoice_id")
        .agg(pl.col("rank").max())
        .filter(pl.col("rank") > 0)
        .select(
            "invoice_id",
            pl.when(pl.col("rank") == 2)
            .then(pl.lit(Courtesy.SENT.value))
            .otherwise(pl.lit(Courtesy.WAITING.value))
            .alias("courtesy"),
        )
    )


def statement_lines(
    day: date, cycle: pl.DataFrame, open_invoices: pl.DataFrame, courtesy_rows: pl.DataFrame
) -> pl.DataFrame:
    """Every open invoice of the cycle's customers (``cycle``: ``customer_id, billing_cycle_day``) on ``day``."""
    opened = pl.DataFrame(
        {"billing_cycle_day": list(range(1, 32)), "cycle_opened": [previous_cycle_date(c, day) for c in range(1, 32)]},
        schema={"billing_cycle_day": pl.Int64(), "cycle_opened": pl.Date()},
    )
    courtesy = courtesy_of_invoices(courtesy_rows)
    lines = (
        open_invoices.filter(pl.col("balance_minor") > 0)
        .join(cycle.with_columns(pl.col("billing_cycle_day").cast(pl.Int64)), on="customer_id", how="inner")
        .join(opened, on="billing_cycle_day", how="left")
        .join(courtesy, on="invoice_id", how="left")
        .with_columns(
            pl.lit(day).alias("business_date"),
            ((pl.col("issue_date") > pl.col("cycle_opened")) & (pl.col("issue_date") <= day)).alias("new_in_cycle"),
            (pl.col("due_date") < day).alias("overdue"),
            (pl.col("due_date") - pl.lit(day)).dt.total_days().alias("days_to_due"),
        )
        .with_columns(
            pl.when(~pl.col("new_in_cycle") | pl.col("overdue"))
            .then(pl.lit(Courtesy.NOT_APPLICABLE.value))
            .otherwise(pl.col("courtesy").fill_null(Courtesy.NOT_YET.value))
            .alias("courtesy")
        )
    )
    typed = lines.select([pl.col(name).cast(dtype) for name, dtype in LINE_SCHEMA.items()])
    return typed.sort("customer_id", "due_date", "invoice_id")


def statement_totals(lines: pl.DataFrame) -> pl.DataFrame:
    """Per currency: customers, open invoices, balance, overdue balance, the cycle's new invoices, courtesy states."""
    courtesy = {state: (pl.col("courtesy") == state.value).sum().alias(f"courtesy_{state.value}") for state in Courtesy}
    return (
        lines.group_by("currency")
        .agg(
            pl.col("customer_id").n_unique().alias("customers"),
            pl.len().alias("invoices"),
            pl.col("balance_minor").sum(),
            pl.col("balance_minor").filter(pl.col("overdue")).sum().alias("overdue_minor"),
            pl.col("new_in_cycle").sum().alias("new_invoices"),
            *(courtesy[state] for state in (Courtesy.SENT, Courtesy.WAITING, Courtesy.NOT_YET)),
        )
        .sort("currency")
    )
