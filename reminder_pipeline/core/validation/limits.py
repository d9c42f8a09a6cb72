"""Values must fit the ledger's columns; the limits come from the ledger schema, not from here."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from reminder_pipeline.core.validation.reasons import Reason
from reminder_pipeline.core.validation.result import ValidationResult, check, split_on_problems


def check_lengths(frame: pl.DataFrame, limits: Mapping[str, int]) -> ValidationResult:
    """Quarantine rows holding a text value longer than its column's limit (``value_too_long``).

    The detail names the column and the length, never the value (it may be personal data).
    """
    columns = [c for c in limits if c in frame.columns and frame.schema[c] == pl.String]
    problems = [
        check(
            pl.col(c).str.len_chars() > limits[c],
            Reason.VALUE_TOO_LONG,
            pl.format(f"{c} has {{}} characters, the ledger keeps at most {limits[c]}", pl.col(c).str.len_chars()),
        )
        for c in columns
    ]
    return split_on_problems(frame, problems)
