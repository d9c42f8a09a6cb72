"""Checks that need more than the row itself: duplicates in the input, references, the ledger."""

from __future__ import annotations

import polars as pl

from reminder_pipeline.core.canonical import ROW_NUMBER
from reminder_pipeline.core.validation.reasons import Reason
from reminder_pipeline.core.validation.result import (
    ValidationResult,
    check,
    empty_quarantine,
    split_on_problems,
)


def _content_hash(columns: list[str]) -> pl.Expr:
    return pl.struct(columns).hash(seed=0)


def fold_duplicates(frame: pl.DataFrame, key: str) -> tuple[ValidationResult, int]:
    """Identical repeats of a key fold into one row; a key whose rows differ is quarantined whole.

    Returns the result and how many identical repeats were folded (they count as accepted).
    """
    content = [c for c in frame.columns if c != ROW_NUMBER]
    marked = frame.with_columns(_content_hash(content).alias("_content"))
    marked = marked.with_columns(
        pl.col("_content").n_unique().over(key).alias("_versions"),
        pl.len().over(key).alias("_copies"),
    )
    result = split_on_problems(
        marked,
        [
            check(
                pl.col("_versions") > 1,
                Reason.CONFLICTING_DUPLICATE,
                pl.format(
                    f"{key} {{}} appears {{}} times with different content",
                    pl.col(key),
                    pl.col("_copies"),
                ),
            )
        ],
    )
    kept = result.accepted.unique(subset=[key], keep="first", maintain_order=True)
    folded = result.accepted.height - kept.height
    return ValidationResult(kept.drop("_content", "_versions", "_copies"), result.quarantined), folded


def require_known(frame: pl.DataFrame, column: str, known: pl.Series, reason: Reason, what: str) -> ValidationResult:
    """Quarantine rows whose ``column`` is not among ``known``."""
    if frame.is_empty():
        return ValidationResult(frame, empty_quarantine())
    return split_on_problems(
        frame,
        [
            check(
                ~pl.col(column).is_in(known.implode()),
                reason,
                pl.format(f"{what} '{{}}' is unknown", pl.col(column)),
            )
        ],
    )


def conflicts_with_existing(
    frame: pl.DataFrame, existing: pl.DataFrame, key: str, immutable: list[str]
) -> ValidationResult:
    """Quarantine rows whose immutable fields differ from what the ledger already holds for the key."""
    if existing.is_empty() or frame.is_empty():
        return ValidationResult(frame, empty_quarantine())
    suffix = "__ledger"
    joined = frame.join(
        existing.select([key, *immutable]).with_columns(pl.lit(True).alias("_in_ledger")),
        on=key,
        how="left",
        suffix=suffix,
        maintain_order="left",
    )
    in_ledger = pl.col("_in_ledger").fill_null(False)
    differs = [in_ledger & pl.col(c).ne_missing(pl.col(f"{c}{suffix}")) for c in immutable]
    changed_fields = pl.concat_str(
        [pl.when(d).then(pl.lit(c)) for d, c in zip(differs, immutable, strict=True)],
        separator=", ",
        ignore_nulls=True,
    )
    result = split_on_problems(
        joined,
        [
            check(
                pl.any_horizontal(differs),
                Reason.CONFLICTS_WITH_LEDGER,
                pl.format(
                    f"{key} {{}} is in the ledger with a different {{}}",
                    pl.col(key),
                    changed_fields,
                ),
            )
        ],
    )
    return ValidationResult(
        result.accepted.drop([f"{c}{suffix}" for c in immutable] + ["_in_ledger"]),
        result.quarantined,
    )
