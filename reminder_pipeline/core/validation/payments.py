from __future__ import annotations

import polars as pl

from reminder_pipeline.core.canonical import ATTRIBUTES, PAYMENT_SCHEMA, ROW_NUMBER
from reminder_pipeline.core.history import SETTLEMENT_SUFFIX
from reminder_pipeline.core.mapping import ValueFormat
from reminder_pipeline.core.validation.parse import (
    drop_work_columns,
    keep_raw,
    parse_currency,
    parse_dates,
    parse_money,
    required_present,
    text,
)
from reminder_pipeline.core.validation.reasons import Reason
from reminder_pipeline.core.validation.result import (
    ValidationResult,
    check,
    split_on_problems,
)

PAYMENT_COLUMNS = [
    ROW_NUMBER,
    "payment_id",
    "invoice_id",
    "amount_minor",
    "currency",
    "paid_date",
    "method",
    ATTRIBUTES,
]


def validate_payments(frame: pl.DataFrame, fmt: ValueFormat) -> ValidationResult:
    """Row-level checks of payment rows (partial payments are normal: several per invoice)."""
    frame = keep_raw(frame, list(PAYMENT_SCHEMA.columns))
    frame = frame.with_columns(text("payment_id"), text("invoice_id"), text("method"))
    problems = required_present(PAYMENT_SCHEMA.required)
    problems.append(
        check(
            pl.col("payment_id").str.ends_with(SETTLEMENT_SUFFIX),
            Reason.RESERVED_ID,
            pl.format(
                f"payment_id {{}} ends with '{SETTLEMENT_SUFFIX}', reserved for settlements an invoice history reports",
                pl.col("payment_id"),
            ),
        )
    )
    frame, found = parse_currency(frame)
    problems += found
    frame, found = parse_dates(frame, PAYMENT_SCHEMA.dates, fmt)
    problems += found
    frame, found = parse_money(frame, PAYMENT_SCHEMA.money, fmt)
    problems += found
    problems.append(
        check(
            pl.col("amount_minor") <= 0,
            Reason.NON_POSITIVE_AMOUNT,
            pl.format("payment amount {} is not positive", pl.col("amount__raw")),
        )
    )
    result = split_on_problems(frame, problems)
    return ValidationResult(drop_work_columns(result.accepted).select(PAYMENT_COLUMNS), result.quarantined)
