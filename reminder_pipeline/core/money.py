"""Money is integer minor units plus an ISO 4217 code; formatting is Babel's."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision


def to_major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-get_currency_precision(currency))


def format_money(minor: int, currency: str, locale: str = "en_US") -> str:
    return format_currency(to_major(minor, currency), currency, locale=locale)
