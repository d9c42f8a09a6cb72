"""Vectorised parsing of canonical columns from whatever the source delivered (text or typed)."""

from __future__ import annotations

from datetime import date
from functools import cache

import polars as pl
from babel.core import get_global
from babel.numbers import get_currency_precision, get_territory_currencies

from reminder_pipeline.core.canonical import ROW_NUMBER
from reminder_pipeline.core.mapping import ValueFormat
from reminder_pipeline.core.validation.reasons import Reason
from reminder_pipeline.core.validation.result import check

RAW = "__raw"
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2100, 12, 31)
MAX_INTEGER_DIGITS = 15

Problem = tuple[pl.Expr, pl.Expr]


@cache
def currency_exponents() -> dict[str, int]:
    """Currencies that are legal tender somewhere today, with their minor-unit digits (JPY 0, EUR 2, KWD 3).

    Withdrawn currencies (DEM, FRF), funds, metals and test codes (XAU, XTS, XXX) are not money an
    invoice is paid in. Computed once per process.
    """
    today = date.today()
    codes: set[str] = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, start_date=today, tender=True))
    return {code: get_currency_precision(code) for code in sorted(codes)}


def raw_name(column: str) -> str:
    return column + RAW


def text(column: str) -> pl.Expr:
    """The column as stripped text, empty strings as null."""
    value = pl.col(column).cast(pl.String).str.strip_chars()
    return pl.when(value.str.len_chars() > 0).then(value).alias(column)


def keep_raw(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).cast(pl.String).alias(raw_name(c)) for c in columns)


def is_blank(column: str) -> pl.Expr:
    return text(raw_name(column)).is_null()


def required_present(columns: tuple[str, ...]) -> list[Problem]:
    return [check(is_blank(c), Reason.MISSING_FIELD, f"required field {c} is empty") for c in columns]


def parse_dates(frame: pl.DataFrame, columns: tuple[str, ...], fmt: ValueFormat) -> tuple[pl.DataFrame, list[Problem]]:
    exprs: list[pl.Expr] = []
    problems: list[Problem] = []
    for column in columns:
        dtype = frame.schema[column]
        if dtype == pl.Date:
            parsed = pl.col(column)
        elif isinstance(dtype, pl.Datetime):
            parsed = pl.col(column).dt.date()
        else:
            parsed = text(column).str.strptime(pl.Date, fmt.date_format_for(column), strict=False)
        exprs.append(parsed.alias(column))
        problems.append(
            check(
                pl.col(column).is_null() & ~is_blank(column),
                Reason.INVALID_DATE,
                pl.format(
                    f"{column} '{{}}' is not a date in format {fmt.date_format_for(column)}",
                    pl.col(raw_name(column)),
                ),
            )
        )
        problems.append(
            check(
                (pl.col(column) < EARLIEST_DATE) | (pl.col(column) > LATEST_DATE),
                Reason.IMPLAUSIBLE_DATE,
                pl.format(
                    f"{column} {{}} is outside 1970-2100",
                    pl.col(column).cast(pl.String),
                ),
            )
        )
    return frame.with_columns(exprs), problems


def parse_currency(frame: pl.DataFrame, column: str = "currency") -> tuple[pl.DataFrame, list[Problem]]:
    """Upper-cased ISO 4217 code plus ``_exponent``, its number of minor-unit digits."""
    code = text(column).str.to_uppercase()
    frame = frame.with_columns(
        code.alias(column),
        code.replace_strict(currency_exponents(), default=None, return_dtype=pl.Int64).alias("_exponent"),
    )
    problem = check(
        pl.col(column).is_not_null() & pl.col("_exponent").is_null(),
        Reason.INVALID_CURRENCY,
        pl.format(f"{column} '{{}}' is not the ISO 4217 code of a currency in use", pl.col(raw_name(column))),
    )
    return frame, [problem]


def _literal(character: str) -> str:
    """A character as a regex literal (hex escape: safe for any separator, even a space)."""
    return f"\\x{{{ord(character):X}}}"


def amount_pattern(fmt: ValueFormat) -> str:
    """Decimal text as the format writes it: thousands groups of three digits, one decimal separator.

    Without a thousands separator, digits run ungrouped; with one, they may also run ungrouped
    (``1234,50``) but every group after the first has three digits, so ``2.50`` with thousands ``.``
    and ``1.000`` with decimal ``,`` and no thousands separator do not fit and are never guessed.
    """
    whole = "[0-9]+"
    if fmt.thousands_separator:
        whole = f"(?:[0-9]{{1,3}}(?:{_literal(fmt.thousands_separator)}[0-9]{{3}})+|[0-9]+)"
    return f"^[+-]?{whole}(?:{_literal(fmt.decimal_separator)}[0-9]+)?$"


def _minor_from_text(value: pl.Expr, fmt: ValueFormat) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(minor units, fits the number format, has at most 15 integer digits, fits the currency's precision)."""
    # [0-9], not \d: \d also matches other scripts' digits (١٠٠, １００), which the casts below cannot read.
    fits_format = value.str.contains(amount_pattern(fmt))
    cleaned = value
    if fmt.thousands_separator:
        cleaned = cleaned.str.replace_all(fmt.thousands_separator, "", literal=True)
    if fmt.decimal_separator != ".":
        cleaned = cleaned.str.replace_all(fmt.decimal_separator, ".", literal=True)
    short = cleaned.str.contains(rf"^[+-]?[0-9]{{1,{MAX_INTEGER_DIGITS}}}(\.[0-9]+)?$")
    sign = pl.when(cleaned.str.starts_with("-")).then(-1).otherwise(1)
    parts = cleaned.str.strip_chars_start("+-").str.split(".")
    whole = parts.list.get(0, null_on_oob=True).cast(pl.Int64, strict=False)
    fraction = parts.list.get(1, null_on_oob=True).fill_null("").str.strip_chars_end("0")
    digits = fraction.str.len_chars().cast(pl.Int64)
    exponent = pl.col("_exponent")
    fits = digits <= exponent
    fraction_value = fraction.cast(pl.Int64, strict=False).fill_null(0)
    ten = pl.lit(10, dtype=pl.Int64)
    minor = sign * (whole * ten.pow(exponent) + fraction_value * ten.pow(exponent - digits))
    return pl.when(fits_format & short & fits).then(minor), fits_format, short, fits


def parse_money(frame: pl.DataFrame, columns: tuple[str, ...], fmt: ValueFormat) -> tuple[pl.DataFrame, list[Problem]]:
    """Amounts to integer minor units (``<column>_minor``); needs ``_exponent`` from parse_currency."""
    exprs: list[pl.Expr] = []
    problems: list[Problem] = []
    for column in columns:
        dtype = frame.schema[column]
        minor: pl.Expr
        fits_format: pl.Expr = pl.lit(True)
        if dtype.is_float():
            scaled = pl.col(column) * pl.lit(10.0).pow(pl.col("_exponent"))
            is_number = pl.col(column).is_finite() & (pl.col(column).abs() < 10.0**MAX_INTEGER_DIGITS)
            fits = (scaled - scaled.round(0)).abs() < 1e-6
            minor = pl.when(is_number & fits).then(scaled.round(0).cast(pl.Int64, strict=False))
        elif dtype.is_integer():
            # Checked: a value beyond Int64 (UInt64) becomes null, and with at most 15 digits the
            # scaling by 10^exponent cannot overflow.
            whole = pl.col(column).cast(pl.Int64, strict=False)
            is_number = whole.is_between(1 - 10**MAX_INTEGER_DIGITS, 10**MAX_INTEGER_DIGITS - 1)
            minor = pl.when(is_number).then(whole * pl.lit(10, dtype=pl.Int64).pow(pl.col("_exponent")))
            fits = pl.lit(True)
        else:
            minor, fits_format, short, fits = _minor_from_text(text(column), fmt)
            is_number = fits_format & short
        exprs += [
            minor.alias(column + "_minor"),
            fits_format.fill_null(False).alias(f"_{column}_fits_format"),
            is_number.fill_null(False).alias(f"_{column}_is_number"),
            fits.fill_null(False).alias(f"_{column}_fits"),
        ]
        present = ~is_blank(column)
        problems.append(
            check(
                present & ~pl.col(f"_{column}_fits_format"),
                Reason.INVALID_AMOUNT,
                pl.format(
                    f"{column} '{{}}' is not a number written with {fmt.describe_numbers()}",
                    pl.col(raw_name(column)),
                ),
            )
        )
        problems.append(
            check(
                present & pl.col(f"_{column}_fits_format") & ~pl.col(f"_{column}_is_number"),
                Reason.INVALID_AMOUNT,
                pl.format(
                    f"{column} '{{}}' has more than {MAX_INTEGER_DIGITS} digits before the decimal separator",
                    pl.col(raw_name(column)),
                ),
            )
        )
        problems.append(
            check(
                present
                & pl.col("_exponent").is_not_null()
                & pl.col(f"_{column}_is_number")
                & ~pl.col(f"_{column}_fits"),
                Reason.AMOUNT_PRECISION,
                pl.format(
                    f"{column} '{{}}' has more decimals than {{}} allows",
                    pl.col(raw_name(column)),
                    pl.col("currency"),
                ),
            )
        )
        problems.append(
            check(
                present
                & pl.col(f"_{column}_is_number")
                & pl.col(f"_{column}_fits")
                & pl.col("_exponent").is_not_null()
                & pl.col(column + "_minor").is_null(),
                Reason.INVALID_AMOUNT,
                pl.format(f"{column} '{{}}' could not be read as an amount", pl.col(raw_name(column))),
            )
        )
    return frame.with_columns(exprs), problems


def parse_booleans(
    frame: pl.DataFrame, columns: tuple[str, ...], fmt: ValueFormat
) -> tuple[pl.DataFrame, list[Problem]]:
    truthy = [v.lower() for v in fmt.true_values]
    falsy = [v.lower() for v in fmt.false_values]
    exprs: list[pl.Expr] = []
    problems: list[Problem] = []
    for column in columns:
        if frame.schema[column] == pl.Boolean:
            continue
        value = text(column).str.to_lowercase()
        exprs.append(pl.when(value.is_in(truthy)).then(True).when(value.is_in(falsy)).then(False).alias(column))
        problems.append(
            check(
                pl.col(column).is_null() & ~is_blank(column),
                Reason.INVALID_BOOLEAN,
                pl.format(
                    f"{column} '{{}}' is not one of {truthy + falsy}",
                    pl.col(raw_name(column)),
                ),
            )
        )
    return frame.with_columns(exprs), problems


def drop_work_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """Remove the raw copies and ``_``-prefixed helper columns (the row number stays)."""
    return frame.drop([c for c in frame.columns if c != ROW_NUMBER and (c.endswith(RAW) or c.startswith("_"))])
