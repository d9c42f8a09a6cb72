from __future__ import annotations

import polars as pl

from reminder_pipeline.core.canonical import ATTRIBUTES, INVOICE_SCHEMA, ROW_NUMBER
from reminder_pipeline.core.mapping import ValueFormat
from reminder_pipeline.core.validation.parse import (
    drop_work_columns,
    keep_raw,
    parse_booleans,
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

INVOICE_COLUMNS = [
    ROW_NUMBER,
    "invoice_id",
    "customer_id",
    "issue_date",
    "due_date",
    "amount_minor",
    "currency",
    "paid_date",
    "paid_amount_minor",
    "disputed",
    "dispute_date",
    ATTRIBUTES,
]


def validate_invoices(frame: pl.DataFrame, fmt: ValueFormat) -> ValidationResult:
    """Row-level checks of canonical invoice rows; amounts become integer minor units."""
    frame = keep_raw(frame, list(INVOICE_SCHEMA.columns))
    frame = frame.with_columns(text("invoice_id"), text("customer_id"))
    problems = required_present(INVOICE_SCHEMA.required)
    frame, found = parse_currency(frame)
    problems += found
    frame, found = parse_dates(frame, INVOICE_SCHEMA.dates, fmt)
    problems += found
    frame, found = parse_money(frame, INVOICE_SCHEMA.money, fmt)
    problems += found
    frame, found = parse_booleans(frame, INVOICE_SCHEMA.booleans, fmt)
    problems += found
    problems += [
        check(
            pl.col("amount_minor") < 0,
            Reason.NEGATIVE_AMOUNT,
            pl.format("amount {} is negative", pl.col("amount__raw")),
        ),
        check(
            pl.col("paid_amount_minor") < 0,
            Reason.NEGATIVE_AMOUNT,
            pl.format("paid_amount {} is negative", pl.col("paid_amount__raw")),
        ),
        check(
            pl.col("due_date") < pl.col("issue_date"),
            Reason.DUE_BEFORE_ISSUE,
            pl.format(
                "due_date {} is before issue_date {}",
                pl.col("due_date"),
                pl.col("issue_date"),
            ),
        ),
    ]
    result = split_on_problems(frame, problems)
    accepted = drop_work_columns(result.accepted).with_columns(
        pl.when(pl.col("paid_date").is_not_null())
        .then(pl.col("paid_amount_minor").fill_null(pl.col("amount_minor")))
        .otherwise(pl.col("paid_amount_minor"))
        .alias("paid_amount_minor")
    )
    return ValidationResult(accepted.select(INVOICE_COLUMNS), result.quarantined)
