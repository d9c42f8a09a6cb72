"""Customer segments: risk band × aging × value tier × channel, all boundaries from the policy file."""

from __future__ import annotations

from datetime import date

import polars as pl

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.core.channels import FALLBACK_ORDER, NO_CHANNEL, reachable, with_contact_columns
from reminder_pipeline.core.policy.config import Segmentation
from reminder_pipeline.core.receivables import aging_bucket
from reminder_pipeline.core.validation.parse import currency_exponents


def risk_band(p_late: pl.Expr, bands: dict[str, float]) -> pl.Expr:
    """The first band whose upper bound is at least P(late)."""
    names = list(bands)
    expr: pl.Expr = pl.lit(names[-1])
    for name in reversed(names[:-1]):
        expr = pl.when(p_late <= bands[name]).then(pl.lit(name)).otherwise(expr)
    return expr


def _tiers(segmentation: Segmentation) -> pl.DataFrame:
    rows = []
    for currency, tiers in segmentation.value_tiers.items():
        lower = float("-inf")
        for tier in tiers:
            upper = tier.below if tier.below is not None else float("inf")
            rows.append({"tier_currency": currency, "value_tier": tier.name, "lower": lower, "upper": upper})
            lower = upper
    return pl.DataFrame(rows)


def _channel() -> pl.Expr:
    """The preferred channel when it reaches the customer, else the first that does in ``FALLBACK_ORDER``,
    else none."""
    preferred = pl.col("preferred_channel")
    expr: pl.Expr = pl.lit(NO_CHANNEL)
    for channel in reversed(FALLBACK_ORDER):
        expr = pl.when(reachable(channel)).then(pl.lit(channel.value)).otherwise(expr)
    for channel in reversed(list(Channel)):
        expr = pl.when((preferred == channel.value) & reachable(channel)).then(pl.lit(channel.value)).otherwise(expr)
    return expr


def segment_customers(
    scores: pl.DataFrame, open_invoices: pl.DataFrame, customers: pl.DataFrame, segmentation: Segmentation, day: date
) -> pl.DataFrame:
    """One row per scored customer with open invoices on ``day``.

    ``scores``: customer_id, p_late, risk_band. ``open_invoices``: customer_id, due_date, currency,
    balance_minor. ``customers``: contact details, preferred channel, consent and opt-outs.
    """
    by_currency = open_invoices.group_by("customer_id", "currency").agg(pl.col("balance_minor").sum())
    main_currency = by_currency.sort("balance_minor", descending=True).unique("customer_id", keep="first")
    overdue = open_invoices.group_by("customer_id").agg(
        pl.len().alias("open_invoices"),
        pl.col("due_date").min().alias("oldest_due_date"),
    )
    exponents = pl.DataFrame({"currency": list(currency_exponents()), "exponent": list(currency_exponents().values())})
    tiers = _tiers(segmentation)
    known = set(tiers["tier_currency"])
    frame = (
        scores.select("customer_id", "p_late", "risk_band")
        .join(overdue, on="customer_id", how="inner")
        .join(main_currency, on="customer_id", how="left")
        .join(exponents, on="currency", how="left")
        .join(with_contact_columns(customers), on="customer_id", how="left")
        .with_columns(
            (pl.lit(day) - pl.col("oldest_due_date")).dt.total_days().alias("max_days_overdue"),
            (pl.col("balance_minor") / pl.lit(10.0).pow(pl.col("exponent").fill_null(2))).alias("_balance"),
            pl.when(pl.col("currency").is_in(sorted(known)))
            .then(pl.col("currency"))
            .otherwise(pl.lit("default"))
            .alias("tier_currency"),
        )
    )
    tiered = (
        frame.join(tiers, on="tier_currency", how="left")
        .filter((pl.col("_balance") >= pl.col("lower")) & (pl.col("_balance") < pl.col("upper")))
        .select("customer_id", "value_tier")
    )
    return (
        frame.join(tiered, on="customer_id", how="left")
        .with_columns(
            aging_bucket(pl.col("max_days_overdue"), segmentation.aging_edges).alias("aging_bucket"),
            _channel().alias("channel"),
        )
        .with_columns(
            pl.concat_str(["risk_band", "aging_bucket", "value_tier", "channel"], separator=" / ").alias("segment")
        )
        .select(
            "customer_id",
            "segment",
            "risk_band",
            "aging_bucket",
            "value_tier",
            "channel",
            "p_late",
            "open_invoices",
            pl.col("balance_minor").alias("open_balance_minor"),
            "currency",
            "oldest_due_date",
            "max_days_overdue",
        )
        .sort("customer_id")
    )


def segment_summary(segments: pl.DataFrame) -> pl.DataFrame:
    """Customers and open balance per segment and currency."""
    return (
        segments.group_by("segment", "currency")
        .agg(pl.len().alias("customers"), pl.col("open_balance_minor").sum().alias("balance_minor"))
        .sort("segment", "currency")
    )
