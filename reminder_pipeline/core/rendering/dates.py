"""Dates written for a locale by Babel, once per distinct date and locale."""

from __future__ import annotations

import polars as pl
from babel.dates import format_date


def format_dates(frame: pl.DataFrame, day: str, locale: str, style: str = "long") -> pl.Series:
    """Per row: the date in ``day`` written for ``locale`` (Babel's ``long``/``medium``/``short`` style)."""
    pairs = frame.select(day, locale).unique().drop_nulls()
    lookup = pairs.with_columns(
        pl.Series("text", [format_date(d, format=style, locale=loc) for d, loc in pairs.iter_rows()], dtype=pl.String)
    )
    return frame.select(day, locale).join(lookup, on=[day, locale], how="left", maintain_order="left")["text"]
