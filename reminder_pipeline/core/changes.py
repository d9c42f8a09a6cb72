"""What an incoming batch changes in the ledger, decided before anything is written."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum, StrEnum

import polars as pl

CHANGE = "_change"


class Merge(Enum):
    """How an existing row's column takes an incoming value."""

    REPLACE = "replace"
    KEEP_EXISTING_IF_NEW_NULL = "coalesce_new"
    KEEP_FIRST = "keep_first"


class Change(StrEnum):
    INSERT = "insert"
    UPDATE = "update"
    NONE = "none"


def _effective(column: str, how: Merge, suffix: str) -> pl.Expr:
    incoming, existing = pl.col(column), pl.col(column + suffix)
    if how is Merge.REPLACE:
        return incoming
    if how is Merge.KEEP_EXISTING_IF_NEW_NULL:
        return pl.coalesce(incoming, existing)
    return pl.coalesce(existing, incoming)


def classify_changes(
    incoming: pl.DataFrame, existing: pl.DataFrame, key: str, merge: Mapping[str, Merge]
) -> pl.DataFrame:
    """``incoming`` with a ``_change`` column: insert (new key), update (a merged value differs) or none."""
    suffix = "__existing"
    compared = [c for c in merge if c in existing.columns]
    joined = incoming.join(
        existing.select([key, *compared]).with_columns(pl.lit(True).alias("_exists")),
        on=key,
        how="left",
        suffix=suffix,
        maintain_order="left",
    )
    differs = [_effective(c, merge[c], suffix).ne_missing(pl.col(c + suffix)) for c in compared] or [pl.lit(False)]
    change = (
        pl.when(pl.col("_exists").is_null())
        .then(pl.lit(Change.INSERT.value))
        .when(pl.any_horizontal(differs))
        .then(pl.lit(Change.UPDATE.value))
        .otherwise(pl.lit(Change.NONE.value))
    )
    return joined.with_columns(change.alias(CHANGE)).select([*incoming.columns, CHANGE])


def count_changes(classified: pl.DataFrame) -> dict[Change, int]:
    counts = dict(classified.group_by(CHANGE).len().iter_rows())
    return {change: int(counts.get(change.value, 0)) for change in Change}
