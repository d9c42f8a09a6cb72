"""What an incoming batch changes in the ledger, decided before anything is written.

Rows may carry the business date their values were known at (``known_on``). Values known on an
earlier date than the ledger's never overwrite it: re-running an old business day cannot roll
the ledger back. They only fill fields the ledger does not know yet, which is what ingesting the
days in order would have left there, since an empty field never erases.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum, StrEnum

import polars as pl

CHANGE = "_change"
WRITE = "_write"
"""True for rows that must be written: a change, or only a later ``known_on`` for the same values."""
KNOWN_ON = "known_on"


class Merge(Enum):
    """How an existing row's column takes an incoming value known on the same or a later date."""

    REPLACE = "replace"
    KEEP_EXISTING_IF_NEW_NULL = "coalesce_new"
    KEEP_FIRST = "keep_first"
    """Sticky (an opt-out): the first value recorded stays, whatever the incoming row's date."""


class Change(StrEnum):
    INSERT = "insert"
    UPDATE = "update"
    NONE = "none"


def _effective(column: str, how: Merge, suffix: str, newer: pl.Expr) -> pl.Expr:
    incoming, existing = pl.col(column), pl.col(column + suffix)
    if how is Merge.KEEP_FIRST:
        return pl.coalesce(existing, incoming)
    merged = incoming if how is Merge.REPLACE else pl.coalesce(incoming, existing)
    return pl.when(newer).then(merged).otherwise(pl.coalesce(existing, incoming))


def classify_changes(
    incoming: pl.DataFrame,
    existing: pl.DataFrame,
    key: str,
    merge: Mapping[str, Merge],
    *,
    known_on: bool = False,
) -> pl.DataFrame:
    """``incoming`` with its merged columns resolved against ``existing``, plus ``_change`` and ``_write``.

    ``_change`` is insert (new key), update (a resolved value differs from the ledger's) or none.
    With ``known_on``, both frames carry a ``known_on`` date: a row known earlier than the ledger's
    only fills gaps, and the resolved ``known_on`` is the later of the two. Writing the resolved
    values as they are (merge rule REPLACE) gives the ledger exactly what was classified.
    """
    suffix = "__existing"
    compared = [c for c in merge if c in existing.columns]
    dated = known_on and KNOWN_ON in existing.columns
    carried = [*compared, KNOWN_ON] if dated else compared
    joined = incoming.join(
        existing.select([key, *carried]).with_columns(pl.lit(True).alias("_exists")),
        on=key,
        how="left",
        suffix=suffix,
        maintain_order="left",
    )
    exists = pl.col("_exists").fill_null(False)
    stored_on = pl.col(KNOWN_ON + suffix)
    newer = (stored_on.is_null() | (pl.col(KNOWN_ON) >= stored_on)).fill_null(True) if dated else pl.lit(True)
    resolved = [_effective(c, merge[c], suffix, ~exists | newer).alias(c) for c in compared]
    joined = joined.with_columns(resolved)
    differs = [pl.col(c).ne_missing(pl.col(c + suffix)) for c in compared] or [pl.lit(False)]
    change = (
        pl.when(~exists)
        .then(pl.lit(Change.INSERT.value))
        .when(pl.any_horizontal(differs))
        .then(pl.lit(Change.UPDATE.value))
        .otherwise(pl.lit(Change.NONE.value))
    )
    joined = joined.with_columns(change.alias(CHANGE))
    write = pl.col(CHANGE) != Change.NONE.value
    if dated:
        later = pl.when(exists & ~newer).then(stored_on).otherwise(pl.col(KNOWN_ON))
        joined = joined.with_columns(later.alias(KNOWN_ON))
        write = write | pl.col(KNOWN_ON).ne_missing(stored_on)
    return joined.with_columns(write.alias(WRITE)).select([*incoming.columns, CHANGE, WRITE])


def count_changes(classified: pl.DataFrame) -> dict[Change, int]:
    counts = dict(classified.group_by(CHANGE).len().iter_rows())
    return {change: int(counts.get(change.value, 0)) for change in Change}
