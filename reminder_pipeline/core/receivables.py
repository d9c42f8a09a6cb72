"""Receivables as of a day: balances, aging buckets, outstanding by currency."""

from __future__ import annotations

from datetime import date

import polars as pl

AGING_BUCKETS = ("not yet due", "1-7", "8-30", "31-60", "60+")


def aging_bucket(days_overdue: pl.Expr) -> pl.Expr:
    return (
        pl.when(days_overdue <= 0)
        .then(pl.lit(AGING_BUCKETS[0]))
        .when(days_overdue <= 7)
        .then(pl.lit(AGING_BUCKETS[1]))
        .when(days_overdue <= 30)
        .then(pl.lit(AGING_BUCKETS[2]))
        .when(days_overdue <= 60)
        .then(pl.lit(AGING_BUCKETS[3]))
        .otherwise(pl.lit(AGING_BUCKETS[4]))
    )


def with_aging(open_invoices: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Adds ``days_overdue`` and ``aging_bucket`` to rows with ``due_date``."""
    days = (pl.lit(as_of) - pl.col("due_date")).dt.total_days()
    return open_invoices.with_columns(days.alias("days_overdue"), aging_bucket(days).alias("aging_bucket"))


def aging_summary(open_invoices: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """One row per currency and bucket (all buckets present): invoices and balance in minor units."""
    aged = with_aging(open_invoices, as_of)
    grid = (
        aged.select(pl.col("currency").unique())
        .join(pl.DataFrame({"aging_bucket": list(AGING_BUCKETS)}), how="cross")
        .with_columns(pl.col("aging_bucket").cast(pl.Enum(AGING_BUCKETS)))
    )
    totals = (
        aged.group_by("currency", "aging_bucket")
        .agg(
            pl.len().alias("invoices"),
            pl.col("balance_minor").sum().alias("balance_minor"),
        )
        .with_columns(pl.col("aging_bucket").cast(pl.Enum(AGING_BUCKETS)))
    )
    return (
        grid.join(totals, on=["currency", "aging_bucket"], how="left")
        .with_columns(
            pl.col("invoices").fill_null(0).cast(pl.Int64),
            pl.col("balance_minor").fill_null(0),
        )
        .sort("currency", "aging_bucket")
    )


def outstanding_by_currency(open_invoices: pl.DataFrame) -> pl.DataFrame:
    return (
        open_invoices.group_by("currency")
        .agg(
            pl.len().alias("open_invoices"),
            pl.col("customer_id").n_unique().alias("customers"),
            pl.col("balance_minor").sum().alias("balance_minor"),
        )
        .sort("currency")
    )


def credits_by_currency(overpaid: pl.DataFrame) -> pl.DataFrame:
    """Overpaid invoices (``excess_minor`` per invoice) added up per currency: what customers are owed back."""
    return (
        overpaid.group_by("currency")
        .agg(
            pl.len().cast(pl.Int64).alias("overpaid_invoices"),
            pl.col("customer_id").n_unique().cast(pl.Int64).alias("customers"),
            pl.col("excess_minor").sum().alias("credit_minor"),
        )
        .sort("currency")
    )
