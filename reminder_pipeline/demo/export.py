"""Values as a billing system's CSV export writes them: zero-padded ids, text, "true"/"false", ISO dates,
decimal money; missing values null."""

from __future__ import annotations

import numpy as np
import polars as pl

from reminder_pipeline.demo.days import NO_DAY

CUSTOMER_ID_DIGITS = 7
INVOICE_ID_DIGITS = 8
PAYMENT_ID_DIGITS = 8


def ids(prefix: str, numbers: np.ndarray, digits: int) -> pl.Series:
    """Zero-padded ids such as ``C0000042`` from 1-based numbers."""
    return prefix + pl.Series(numbers, dtype=pl.Int64).cast(pl.String).str.zfill(digits)


def text(values: np.ndarray, name: str = "") -> pl.Series:
    """Object arrays of str/None as a String series (polars cannot cast numpy object arrays)."""
    return pl.Series(name, values.tolist(), dtype=pl.String)


def blank_where(missing: np.ndarray, values: np.ndarray) -> np.ndarray:
    blanked = values.copy()
    blanked[missing] = None
    return blanked


def booleans(values: np.ndarray) -> pl.Series:
    return pl.Series(values, dtype=pl.Boolean).replace_strict({True: "true", False: "false"}, return_dtype=pl.String)


def dates(days: np.ndarray) -> pl.Series:
    """Day numbers to a Date series; :data:`NO_DAY` becomes null."""
    series = pl.Series("day", days, dtype=pl.Int64)
    known = series.to_frame().select(pl.when(pl.col("day") != NO_DAY).then(pl.col("day"))).to_series()
    return known.cast(pl.Int32).cast(pl.Date)


def date_text(days: np.ndarray) -> pl.Series:
    return dates(days).dt.to_string("%Y-%m-%d")


def money_text(minor: pl.Expr, exponent: pl.Expr) -> pl.Expr:
    """Decimal text with exactly the currency's number of decimals (JPY none, EUR two)."""
    scale = pl.lit(10, dtype=pl.Int64).pow(exponent)
    whole = (minor.abs() // scale).cast(pl.String)
    fraction = (minor.abs() % scale).cast(pl.String).str.zfill(exponent)
    sign = pl.when(minor < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.when(exponent == 0).then(sign + whole).otherwise(pl.concat_str([sign, whole, pl.lit("."), fraction]))
