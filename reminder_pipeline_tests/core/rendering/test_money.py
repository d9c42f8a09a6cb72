"""Vectorised money formatting equals Babel's own, for any amount, locale and currency."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from babel.numbers import format_currency, get_currency_precision
from hypothesis import given, settings
from hypothesis import strategies as st

from reminder_pipeline.core.rendering.money import format_amounts
from reminder_pipeline.core.rendering.sms import GSM7_CHARACTERS

LOCALES = ["en_US", "en_GB", "en_IN", "en_CA", "de_DE", "de_CH", "de_AT", "fr_FR", "fr_CA", "fr_CH", "es_ES", "es_MX"]
LOCALES += ["ja_JP", "hi_IN", "ar_EG", "pt_BR", "nl_NL", "sv_SE", "pl_PL", "it_IT"]
CURRENCIES = ["EUR", "USD", "GBP", "JPY", "INR", "KWD", "CHF", "MXN", "CAD", "AUD", "BRL", "SEK", "PLN", "KRW"]


def _babel(minor: int, currency: str, locale: str) -> str:
    return format_currency(Decimal(minor).scaleb(-get_currency_precision(currency)), currency, locale=locale)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.integers(0, 10**4), st.integers(0, 10**15)),
            st.sampled_from(CURRENCIES),
            st.sampled_from(LOCALES),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_the_same_text_as_babel(rows: list[tuple[int, str, str]]) -> None:
    frame = pl.DataFrame(rows, schema=["minor", "currency", "locale"], orient="row")
    assert format_amounts(frame, "minor", "currency", "locale").to_list() == [_babel(*row) for row in rows]


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "expected"),
    [
        (123456789, "INR", "en_IN", "₹12,34,567.89"),
        (5, "JPY", "ja_JP", "￥5"),
        (100000, "KWD", "en_US", "KWD100.000"),
        (123456, "EUR", "de_DE", "1.234,56\xa0€"),
    ],
)
def test_grouping_and_digits_follow_the_locale_and_currency(
    minor: int, currency: str, locale: str, expected: str
) -> None:
    frame = pl.DataFrame({"minor": [minor], "currency": [currency], "locale": [locale]})
    assert format_amounts(frame, "minor", "currency", "locale").item() == expected


def test_for_sms_a_symbol_outside_gsm7_becomes_the_iso_code() -> None:
    frame = pl.DataFrame({"minor": [3341253, 100], "currency": ["INR", "EUR"], "locale": ["en_IN", "de_DE"]})
    written = format_amounts(frame, "minor", "currency", "locale", symbol_allowed=GSM7_CHARACTERS).to_list()
    assert written == ["INR 33,412.53", "1,00\xa0€"], "€ is in GSM-7's extension table"


def test_a_negative_amount_is_refused() -> None:
    frame = pl.DataFrame({"minor": [-1], "currency": ["EUR"], "locale": ["en_GB"]})
    with pytest.raises(ValueError, match="zero or more"):
        format_amounts(frame, "minor", "currency", "locale")
