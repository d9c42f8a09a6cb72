"""The deliberately bad rows: how many of each kind, which rows, and how broken exports write them."""

from __future__ import annotations

import numpy as np
import polars as pl

from reminder_pipeline.demo import export
from reminder_pipeline.demo.customers import CUSTOMER_COLUMNS

INVALID_CURRENCIES = ("USX", "EUX", "GPB", "EURO", "$")
INVALID_PHONES = ("12345", "+1 555", "0000000", "n/a")
INVALID_TIME_ZONES = ("Mars/Olympus", "Europe/Atlantis", "America/Gotham", "UTC+25")
INVOICE_DEFECTS = (
    "invalid_currency",
    "negative_amount",
    "due_before_issue",
    "invalid_date",
    "unknown_customer",
    "conflicting_duplicate",
    "identical_duplicate",
)
CUSTOMER_DEFECTS = ("invalid_phone", "invalid_email", "invalid_time_zone")
PAYMENT_DEFECTS = ("unknown_invoice", "zero_amount")
DIRTY_CUSTOMER_QUANTILE = 0.25
"""Contact defects go to customers with few invoices, so quarantining them orphans few invoices."""


def defect_counts(rate: float, rows: int, kinds: int) -> list[int]:
    """Bad rows per kind: about ``rate * rows`` in all, at least one of each kind when the rate is positive."""
    if rate <= 0 or rows == 0:
        return [0] * kinds
    total = min(max(kinds, round(rate * rows)), rows // 2)
    return [total // kinds + (1 if i < total % kinds else 0) for i in range(kinds)]


def split_chosen(rng: np.random.Generator, population: np.ndarray, counts: list[int]) -> list[np.ndarray]:
    """Distinct rows of ``population`` for each defect kind."""
    chosen = rng.choice(population, size=min(sum(counts), population.size), replace=False)
    return np.split(chosen, np.cumsum(counts)[:-1])


def malformed_date(iso: pl.Expr, variant: pl.Expr) -> pl.Expr:
    """Dates as broken exports write them: month 13, day 32, day-first, 30 February."""
    year, month, day = iso.str.slice(0, 4), iso.str.slice(5, 2), iso.str.slice(8, 2)
    return (
        pl.when(variant == 0)
        .then(pl.concat_str([year, pl.lit("-13-"), day]))
        .when(variant == 1)
        .then(pl.concat_str([year, pl.lit("-"), month, pl.lit("-32")]))
        .when(variant == 2)
        .then(pl.concat_str([day, pl.lit("/"), month, pl.lit("/"), year]))
        .otherwise(pl.concat_str([year, pl.lit("-02-30")]))
    )


def dirty_customers(
    rng: np.random.Generator, frame: pl.DataFrame, invoice_counts: np.ndarray, dirty_rate: float
) -> pl.DataFrame:
    counts = defect_counts(dirty_rate, frame.height, len(CUSTOMER_DEFECTS))
    if not sum(counts):
        return frame
    candidates = np.flatnonzero(invoice_counts <= np.quantile(invoice_counts, DIRTY_CUSTOMER_QUANTILE))
    if candidates.size < sum(counts):
        candidates = np.argsort(invoice_counts, kind="stable")[: sum(counts)]
    chosen = dict(zip(CUSTOMER_DEFECTS, split_chosen(rng, candidates, counts), strict=True))
    defect = np.full(frame.height, "", dtype=object)
    for name, rows in chosen.items():
        defect[rows] = name
    variant = rng.integers(0, 4, frame.height)
    email = pl.coalesce(pl.col("email"), pl.col("customer_id").str.to_lowercase() + "@example.com")
    broken_email = (
        pl.when(pl.col("_variant") == 0)
        .then(email.str.replace("@", "@@", literal=True))
        .when(pl.col("_variant") == 1)
        .then(email.str.replace("@", "", literal=True))
        .when(pl.col("_variant") == 2)
        .then(email.str.replace("@", "@.", literal=True))
        .otherwise(email + ".")
    )
    return (
        frame.with_columns(
            export.text(defect, "_defect"),
            pl.Series("_variant", variant),
            export.text(np.array(INVALID_PHONES, dtype=object)[variant % len(INVALID_PHONES)], "_phone"),
            export.text(np.array(INVALID_TIME_ZONES, dtype=object)[variant % len(INVALID_TIME_ZONES)], "_zone"),
        )
        .with_columns(
            pl.when(pl.col("_defect") == "invalid_phone")
            .then(pl.col("_phone"))
            .otherwise(pl.col("phone"))
            .alias("phone"),
            pl.when(pl.col("_defect") == "invalid_email").then(broken_email).otherwise(pl.col("email")).alias("email"),
            pl.when(pl.col("_defect") == "invalid_time_zone")
            .then(pl.col("_zone"))
            .otherwise(pl.col("time_zone"))
            .alias("time_zone"),
        )
        .select(CUSTOMER_COLUMNS)
    )
