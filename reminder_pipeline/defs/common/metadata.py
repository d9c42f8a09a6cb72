"""Turning frames and reports into Dagster metadata a person wants to read (never PII)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
import polars as pl

from reminder_pipeline.core.money import format_money

_COLUMN_TYPES = {
    pl.Int64: "int",
    pl.Int32: "int",
    pl.UInt32: "int",
    pl.Float64: "float",
    pl.Boolean: "bool",
}


def table(frame: pl.DataFrame) -> dg.TableMetadataValue:
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn(name, _COLUMN_TYPES.get(dtype.base_type(), "string")) for name, dtype in frame.schema.items()
        ]
    )
    records = [dg.TableRecord({k: _plain(v) for k, v in row.items()}) for row in frame.iter_rows(named=True)]
    return dg.MetadataValue.table(records=records, schema=schema)


DECIMALS = 4
"""Floats shown in metadata: a share as 0.1234, a ratio to four places, never 0.12345678901."""


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, DECIMALS)
    if value is None or isinstance(value, (int, bool, str)):
        return value
    return str(value)


def rounded(values: Mapping[str, Any]) -> dict[str, Any]:
    """A flat mapping (a JSON value's figures) with every float rounded as in tables."""
    return {key: _plain(value) if isinstance(value, float) else value for key, value in values.items()}


def with_money(frame: pl.DataFrame, minor: str = "balance_minor", label: str = "balance") -> pl.DataFrame:
    """Replace a minor-units column by a formatted amount in the row's currency."""
    formatted = [format_money(m, c) for m, c in zip(frame[minor].to_list(), frame["currency"].to_list(), strict=True)]
    return frame.with_columns(pl.Series(label, formatted, dtype=pl.String)).drop(minor)
