"""Checks that need more than the row itself: duplicates in the input, references, the ledger."""

from __future__ import annotations

from dataclasses import dataclass

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

    Returns the result and how many identical repeats were folded (they count as accepted). This
    works on validated rows; ingestion uses :func:`find_duplicates` on the raw rows instead.
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


KEPT_ROW = "kept_row"


@dataclass(frozen=True)
class Duplicates:
    """Raw rows split by their id: what to validate, conflicting copies, and folded identical copies."""

    unique: pl.DataFrame
    """Every row whose id is not repeated, and the first of each set of identical copies."""
    conflicting: pl.DataFrame
    """Quarantine records for every copy of an id whose copies differ."""
    folded: pl.DataFrame
    """``source row, kept_row``: each further identical copy and the row it was folded into."""


def find_duplicates(frame: pl.DataFrame, key: str) -> Duplicates:
    """Repeated ids on the raw (mapped, not yet validated) rows.

    Working on the raw values means every copy of an id whose copies differ is quarantined as
    ``conflicting_duplicate`` even when one copy is also invalid, and identical copies are
    validated once. An id is compared as stripped text, like validation reads it; blank ids are
    never duplicates (they are quarantined as missing).
    """
    content = [c for c in frame.columns if c != ROW_NUMBER]
    stripped = pl.col(key).cast(pl.String).str.strip_chars()
    marked = frame.with_columns(pl.when(stripped.str.len_chars() > 0).then(stripped).alias("_key"))
    repeated = pl.col("_key").is_not_null() & (pl.len().over("_key") > 1)
    single = marked.filter(~repeated.fill_null(False))
    # rechunk: polars 1.x can panic formatting text over a filtered many-chunk frame
    copies = (
        marked.filter(repeated)
        .rechunk()
        .with_columns(
            pl.struct(content).n_unique().over("_key").alias("_versions"),
            pl.len().over("_key").alias("_copies"),
            pl.col(ROW_NUMBER).min().over("_key").alias(KEPT_ROW),
        )
    )
    conflicting = copies.filter(pl.col("_versions") > 1)
    identical = copies.filter(pl.col("_versions") == 1)
    kept = identical.filter(pl.col(ROW_NUMBER) == pl.col(KEPT_ROW))
    return Duplicates(
        unique=pl.concat([single, kept.select(single.columns)]).sort(ROW_NUMBER).drop("_key"),
        conflicting=conflicting.select(
            pl.col(ROW_NUMBER).cast(pl.Int64),
            pl.lit(Reason.CONFLICTING_DUPLICATE.value).alias("reason"),
            pl.format(f"{key} {{}} appears {{}} times with different content", pl.col("_key"), pl.col("_copies")).alias(
                "detail"
            ),
        ),
        folded=identical.filter(pl.col(ROW_NUMBER) != pl.col(KEPT_ROW)).select(
            pl.col(ROW_NUMBER).cast(pl.Int64), pl.col(KEPT_ROW).cast(pl.Int64)
        ),
    )


def share_outcomes(folded: pl.DataFrame, quarantined: pl.DataFrame) -> ValidationResult:
    """Give each folded copy the outcome of the row it was folded into.

    ``accepted`` lists the copies (``source row``) whose kept row was accepted; the others are
    quarantined with the kept row's reason.
    """
    outcome = folded.join(
        quarantined.select(pl.col(ROW_NUMBER).alias(KEPT_ROW), "reason", "detail"),
        on=KEPT_ROW,
        how="left",
        maintain_order="left",
    )
    return ValidationResult(
        accepted=outcome.filter(pl.col("reason").is_null()).select(ROW_NUMBER),
        quarantined=outcome.filter(pl.col("reason").is_not_null()).select(
            ROW_NUMBER,
            "reason",
            pl.format("identical to row {}: {}", pl.col(KEPT_ROW), pl.col("detail")).alias("detail"),
        ),
    )


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
