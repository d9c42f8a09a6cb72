"""Dates written for a locale by Babel, once per distinct date, locale and style."""

from __future__ import annotations

import polars as pl
from babel.dates import format_date


def format_dates(frame: pl.DataFrame, day: str, locale: str, style: str | pl.Expr = "long") -> pl.Series:
    """Per row: the date in ``day`` written for ``locale``, in Babel's ``long``/``medium``/``short`` style
    (one for every row, or an expression choosing it per row)."""
    keyed = frame.select(day, locale, (pl.lit(style) if isinstance(style, str) else style).alias("_style"))
    distinct = keyed.unique().drop_nulls()
    lookup = distinct.with_columns(
        pl.Series(
            "text",
            [format_date(d, format=s, locale=loc) for d, loc, s in distinct.iter_rows()],
            dtype=pl.String,
        )
    )
    return keyed.join(lookup, on=[day, locale, "_style"], how="left", maintain_order="left")["text"]
