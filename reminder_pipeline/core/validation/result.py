from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from reminder_pipeline.core.canonical import ROW_NUMBER

QUARANTINE_COLUMNS = {ROW_NUMBER: pl.Int64, "reason": pl.String, "detail": pl.String}


def empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE_COLUMNS)


@dataclass(frozen=True)
class ValidationResult:
    """``accepted`` holds typed canonical rows; ``quarantined`` one row per rejected input row."""

    accepted: pl.DataFrame
    quarantined: pl.DataFrame

    def then(self, other: ValidationResult) -> ValidationResult:
        """Chain a later stage that re-examined ``self.accepted``."""
        return ValidationResult(
            accepted=other.accepted,
            quarantined=pl.concat([self.quarantined, other.quarantined], how="vertical"),
        )


def split_on_problems(frame: pl.DataFrame, problems: list[tuple[pl.Expr, pl.Expr]]) -> ValidationResult:
    """Split rows on ordered ``(reason, detail)`` expressions that are null when a row is fine.

    The first failing check names the row's reason; the detail lists every failing check.
    """
    if not problems:
        return ValidationResult(frame, empty_quarantine())
    reasons = [reason for reason, _ in problems]
    details = [pl.when(reason.is_not_null()).then(detail) for reason, detail in problems]
    marked = frame.with_columns(
        pl.coalesce(reasons).alias("_reason"),
        pl.concat_str(details, separator="; ", ignore_nulls=True).alias("_detail"),
    )
    bad = marked.filter(pl.col("_reason").is_not_null())
    return ValidationResult(
        accepted=marked.filter(pl.col("_reason").is_null()).drop("_reason", "_detail"),
        quarantined=bad.select(
            pl.col(ROW_NUMBER).cast(pl.Int64),
            pl.col("_reason").alias("reason"),
            pl.col("_detail").alias("detail"),
        ),
    )


def check(condition: pl.Expr, reason: str, detail: pl.Expr | str) -> tuple[pl.Expr, pl.Expr]:
    """A problem that applies where ``condition`` is true (null counts as no problem)."""
    detail_expr = pl.lit(detail) if isinstance(detail, str) else detail
    return pl.when(condition.fill_null(False)).then(pl.lit(reason)), detail_expr
