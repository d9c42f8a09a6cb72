"""Receivables as of a day: balances, aging buckets, outstanding by currency."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

NOT_YET_DUE = "not yet due"


def aging_labels(edges: Sequence[int]) -> list[str]:
    """The aging buckets the policy's edges make: ``not yet due``, ``1-7``, ``8-30``, ... ``60+``."""
    labels = [NOT_YET_DUE]
    lower = 1
    for edge in edges:
        labels.append(f"{lower}-{edge}")
        lower = edge + 1
    return [*labels, f"{edges[-1]}+"]


def aging_bucket(days_overdue: pl.Expr, edges: Sequence[int]) -> pl.Expr:
    """The bucket of each number of days overdue, by the policy's edges (``aging_labels``)."""
    labels = aging_labels(edges)
    expr: pl.Expr = pl.lit(labels[-1])
    for edge, label in reversed(list(zip(edges, labels[1:-1], strict=True))):
        expr = pl.when(days_overdue <= edge).then(pl.lit(label)).otherwise(expr)
    return pl.when(days_overdue <= 0).then(pl.lit(labels[0])).otherwise(expr)


def with_aging(open_invoices: pl.DataFrame, as_of: date, edges: Sequence[int]) -> pl.DataFrame:
    """Adds ``days_overdue`` and ``aging_bucket`` to rows with ``due_date``."""
    days = (pl.lit(as_of) - pl.col("due_date")).dt.total_days()
    return open_invoices.with_columns(days.alias("days_overdue"), aging_bucket(days, edges).alias("aging_bucket"))


def aging_summary(open_invoices: pl.DataFrame, as_of: date, edges: Sequence[int]) -> pl.DataFrame:
    """One row per currency and bucket (all buckets present): invoices and balance in minor units."""
    buckets = pl.Enum(aging_labels(edges))
    aged = with_aging(open_invoices, as_of, edges)
    grid = (
        aged.select(pl.col("currency").unique())
        .join(pl.DataFrame({"aging_bucket": aging_labels(edges)}), how="cross")
        .with_columns(pl.col("aging_bucket").cast(buckets))
    )
    totals = (
        aged.group_by("currency", "aging_bucket")
        .agg(
            pl.len().alias("invoices"),
            pl.col("balance_minor").sum().alias("balance_minor"),
        )
        .with_columns(pl.col("aging_bucket").cast(buckets))
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
