from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from reminder_pipeline.core.canonical import ROW_NUMBER, Entity
from reminder_pipeline.core.mapping import Mapping, ValueFormat, apply_mapping
from reminder_pipeline.core.validation.invoices import validate_invoices
from reminder_pipeline.core.validation.parse import currency_exponents

GOOD = {
    "invoice_id": "INV-1",
    "customer_id": "C-1",
    "issue_date": "2026-01-01",
    "due_date": "2026-01-31",
    "amount": "100.50",
    "currency": "EUR",
    "paid_date": "",
    "paid_amount": "",
    "disputed": "",
}


def _frame(*rows: dict[str, str]) -> pl.DataFrame:
    raw = pl.DataFrame([{**GOOD, **row} for row in rows], schema=dict.fromkeys(GOOD, pl.String))
    raw = raw.with_row_index(ROW_NUMBER, offset=1).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))
    return apply_mapping(raw, Mapping(entity=Entity.INVOICES))


def _reason(row: dict[str, str], fmt: ValueFormat | None = None) -> str | None:
    result = validate_invoices(_frame(row), fmt or ValueFormat())
    assert result.accepted.height + result.quarantined.height == 1
    return result.quarantined["reason"][0] if result.quarantined.height else None


def test_a_good_row_is_typed_with_minor_units() -> None:
    result = validate_invoices(_frame({}), ValueFormat())
    row = result.accepted.row(0, named=True)
    assert row["amount_minor"] == 10050
    assert row["issue_date"] == date(2026, 1, 1)
    assert row["paid_amount_minor"] is None
    assert result.quarantined.is_empty()


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"invoice_id": ""}, "missing_field"),
        ({"customer_id": "   "}, "missing_field"),
        ({"amount": ""}, "missing_field"),
        ({"currency": "XYZ"}, "invalid_currency"),
        ({"currency": "EURO"}, "invalid_currency"),
        ({"issue_date": "2026-13-45"}, "invalid_date"),
        ({"due_date": "31/01/2026"}, "invalid_date"),
        ({"issue_date": "1900-01-01", "due_date": "1900-02-01"}, "implausible_date"),
        ({"amount": "ten"}, "invalid_amount"),
        ({"amount": "1e5"}, "invalid_amount"),
        ({"amount": "12.345"}, "amount_precision"),
        ({"amount": "100.5", "currency": "JPY"}, "amount_precision"),
        ({"amount": "-5.00"}, "negative_amount"),
        ({"paid_amount": "-1", "paid_date": "2026-01-10"}, "negative_amount"),
        ({"due_date": "2025-12-31"}, "due_before_issue"),
        ({"disputed": "maybe"}, "invalid_boolean"),
        ({"amount": "1234567890123456"}, "invalid_amount"),
        ({"amount": "１００"}, "invalid_amount"),
        ({"amount": "1.５"}, "invalid_amount"),
        ({"amount": "٣"}, "invalid_amount"),
        ({"currency": "DEM"}, "invalid_currency"),
        ({"currency": "FRF"}, "invalid_currency"),
        ({"currency": "XXX"}, "invalid_currency"),
        ({"currency": "XTS"}, "invalid_currency"),
        ({"currency": "XAU"}, "invalid_currency"),
    ],
)
def test_each_bad_row_gets_its_specific_reason(row: dict[str, str], reason: str) -> None:
    assert _reason(row) == reason


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("100", "JPY", 100), ("1.234", "KWD", 1234), ("0", "EUR", 0), ("+7.1", "USD", 710), ("12.50", "USD", 1250)],
)
def test_amounts_respect_each_currency_exponent(amount: str, currency: str, minor: int) -> None:
    result = validate_invoices(_frame({"amount": amount, "currency": currency}), ValueFormat())
    assert result.accepted["amount_minor"].to_list() == [minor]


def test_lower_case_currency_is_normalised() -> None:
    result = validate_invoices(_frame({"currency": " usd "}), ValueFormat())
    assert result.accepted["currency"].to_list() == ["USD"]


def test_decimal_comma_and_thousands_separator_from_the_mapping() -> None:
    fmt = ValueFormat(decimal_separator=",", thousands_separator=".", date_format="%d.%m.%Y")
    frame = _frame({"amount": "1.234,56", "issue_date": "01.02.2026", "due_date": "03.03.2026"})
    result = validate_invoices(frame, fmt)
    assert result.accepted["amount_minor"].to_list() == [123456]
    assert result.accepted["due_date"].to_list() == [date(2026, 3, 3)]


def test_paid_amount_defaults_to_the_invoice_amount_when_only_paid_date_is_given() -> None:
    result = validate_invoices(_frame({"paid_date": "2026-01-20"}), ValueFormat())
    assert result.accepted["paid_amount_minor"].to_list() == [10050]


def test_typed_columns_from_parquet_or_sql_are_accepted() -> None:
    raw = pl.DataFrame(
        {
            ROW_NUMBER: [1, 2],
            "invoice_id": ["A", "B"],
            "customer_id": ["C", "C"],
            "issue_date": [date(2026, 1, 1), date(2026, 1, 2)],
            "due_date": [date(2026, 2, 1), date(2026, 2, 2)],
            "amount": [19.99, 19.999],
            "currency": ["USD", "USD"],
        }
    )
    result = validate_invoices(apply_mapping(raw, Mapping()), ValueFormat())
    assert result.accepted["amount_minor"].to_list() == [1999]
    assert result.quarantined["reason"].to_list() == ["amount_precision"]


def test_the_detail_names_every_problem_of_a_row() -> None:
    result = validate_invoices(_frame({"currency": "XYZ", "due_date": "nope"}), ValueFormat())
    detail = result.quarantined["detail"][0]
    assert "XYZ" in detail
    assert "due_date" in detail


@pytest.mark.parametrize(
    ("amount", "minor"),
    [
        (pl.Series([10], dtype=pl.Int64), 1000),
        (pl.Series([-5], dtype=pl.Int8), None),
        (pl.Series([999_999_999_999_999], dtype=pl.Int64), 99_999_999_999_999_900),
        (pl.Series([1_000_000_000_000_000], dtype=pl.Int64), None),
        (pl.Series([200_000_000_000_000_000], dtype=pl.Int64), None),
        (pl.Series([2**63 + 5], dtype=pl.UInt64), None),
        (pl.Series([-(2**63)], dtype=pl.Int64), None),
    ],
)
def test_integer_amounts_are_checked_before_scaling(amount: pl.Series, minor: int | None) -> None:
    raw = pl.DataFrame(
        {
            ROW_NUMBER: [1],
            "invoice_id": ["A"],
            "customer_id": ["C"],
            "issue_date": [date(2026, 1, 1)],
            "due_date": [date(2026, 2, 1)],
            "amount": amount,
            "currency": ["USD"],
        }
    )
    result = validate_invoices(apply_mapping(raw, Mapping()), ValueFormat())
    if minor is None:
        assert result.quarantined["reason"].to_list() in (["invalid_amount"], ["negative_amount"])
    else:
        assert result.accepted["amount_minor"].to_list() == [minor]


def test_only_currencies_in_use_are_accepted_and_keep_their_exponents() -> None:
    exponents = currency_exponents()
    assert (exponents["JPY"], exponents["EUR"], exponents["KWD"]) == (0, 2, 3)
    assert {"DEM", "FRF", "XXX", "XTS", "XAU"}.isdisjoint(exponents)
    assert currency_exponents() is exponents


COMMA = ValueFormat(decimal_separator=",")
COMMA_DOT = ValueFormat(decimal_separator=",", thousands_separator=".")
DOT_COMMA = ValueFormat(thousands_separator=",")
SWISS = ValueFormat(thousands_separator="'")


@pytest.mark.parametrize(
    ("fmt", "amount", "minor"),
    [
        (COMMA, "1,50", 150),
        (COMMA, "1000", 100000),
        (COMMA_DOT, "1.234.567,89", 123456789),
        (COMMA_DOT, "1.000", 100000),
        (COMMA_DOT, "999,5", 99950),
        (COMMA_DOT, "1234,50", 123450),
        (DOT_COMMA, "1,234.5", 123450),
        (SWISS, "1'234'567.05", 123456705),
        (ValueFormat(decimal_separator=",", thousands_separator=" "), "1 234,5", 123450),
        (ValueFormat(), "1.000", 100),
    ],
)
def test_amounts_that_fit_the_declared_number_format_are_read(fmt: ValueFormat, amount: str, minor: int) -> None:
    result = validate_invoices(_frame({"amount": amount}), fmt)
    assert result.accepted["amount_minor"].to_list() == [minor]


@pytest.mark.parametrize(
    ("fmt", "amount", "described"),
    [
        (COMMA, "1.000", "decimal separator ',', no thousands separator"),
        (COMMA, "1.000,00", "decimal separator ',', no thousands separator"),
        (COMMA_DOT, "2.50", "decimal separator ',', thousands separator '.'"),
        (COMMA_DOT, "12.34,5", "decimal separator ',', thousands separator '.'"),
        (COMMA_DOT, "1234.567", "decimal separator ',', thousands separator '.'"),
        (COMMA_DOT, "1.2345", "decimal separator ',', thousands separator '.'"),
        (COMMA_DOT, "1,000,5", "decimal separator ',', thousands separator '.'"),
        (COMMA_DOT, ".500", "decimal separator ',', thousands separator '.'"),
        (DOT_COMMA, "2,50", "decimal separator '.', thousands separator ','"),
        (ValueFormat(), "1,000", "decimal separator '.', no thousands separator"),
        (ValueFormat(), "1,000.00", "decimal separator '.', no thousands separator"),
        (ValueFormat(), "1 000", "decimal separator '.', no thousands separator"),
    ],
)
def test_an_amount_that_does_not_fit_the_declared_format_is_quarantined_never_guessed(
    fmt: ValueFormat, amount: str, described: str
) -> None:
    """``1.000`` with a decimal comma and no thousands separator was read as 1.00, ``2.50`` with thousands
    ``.`` as 250.00: a misfit is quarantined, with the declared format in the detail."""
    result = validate_invoices(_frame({"amount": amount}), fmt)
    assert result.accepted.is_empty()
    assert result.quarantined["reason"].to_list() == ["invalid_amount"]
    assert result.quarantined["detail"].to_list() == [f"amount '{amount}' is not a number written with {described}"]


def test_a_misfit_paid_amount_is_quarantined_like_the_amount() -> None:
    result = validate_invoices(_frame({"paid_amount": "1.000", "paid_date": "2026-01-20"}), COMMA)
    assert result.quarantined["reason"].to_list() == ["invalid_amount"]
    assert "paid_amount '1.000'" in result.quarantined["detail"][0]
