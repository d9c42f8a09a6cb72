from __future__ import annotations

import polars as pl
import pytest

from reminder_pipeline.core.canonical import ROW_NUMBER, Entity
from reminder_pipeline.core.mapping import Mapping, ValueFormat, apply_mapping
from reminder_pipeline.core.validation.payments import validate_payments

GOOD = {"payment_id": "PAY-1", "invoice_id": "INV-1", "amount": "10.00", "currency": "EUR", "paid_date": "2026-01-05"}


def _reason(row: dict[str, str]) -> str | None:
    raw = pl.DataFrame([{**GOOD, **row}], schema=dict.fromkeys(GOOD, pl.String))
    raw = raw.with_row_index(ROW_NUMBER, offset=1).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))
    result = validate_payments(apply_mapping(raw, Mapping(entity=Entity.PAYMENTS)), ValueFormat())
    assert result.accepted.height + result.quarantined.height == 1
    return result.quarantined["reason"][0] if result.quarantined.height else None


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({}, None),
        ({"payment_id": "INV-2:settled"}, "reserved_id"),
        ({"payment_id": " INV-2:settled "}, "reserved_id"),
        ({"payment_id": "settled:INV-2"}, None),
        ({"amount": "0"}, "non_positive_amount"),
        ({"amount": "１０"}, "invalid_amount"),
    ],
)
def test_payment_rows(row: dict[str, str], reason: str | None) -> None:
    assert _reason(row) == reason
