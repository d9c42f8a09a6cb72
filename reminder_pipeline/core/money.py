"""Money is integer minor units plus an ISO 4217 code; formatting is Babel's."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision


def to_major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-get_currency_precision(currency))


def format_money(minor: int, currency: str, locale: str = "en_US") -> str:
    return format_currency(to_major(minor, currency), currency, locale=locale)


class AmountProblem(ValueError):
    """An amount that cannot be read as exactly one value in its currency: never guessed."""


def parse_major(text: str, currency: str) -> int:
    """``"12.30"`` in ``currency`` as integer minor units; a sign, exponent, separator or more decimals
    than the currency has is refused (``AmountProblem``), never rounded."""
    digits = get_currency_precision(currency)
    whole, dot, fraction = text.strip().partition(".")
    if not whole.isdigit() or (dot and (not fraction.isdigit() or len(fraction) > digits)) or not whole.isascii():
        raise AmountProblem(f"{text!r} is not an amount in {currency} (digits, at most {digits} decimals)")
    return int(whole) * 10**digits + int((fraction or "0").ljust(digits, "0")[:digits] or 0)
