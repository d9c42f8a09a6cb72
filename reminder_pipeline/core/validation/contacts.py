"""Contact details: email addresses and phone numbers, normalised by well-kept libraries.

Python-level work runs once per distinct value, not per row.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import cache

import phonenumbers
import polars as pl
from babel import Locale, UnknownLocaleError
from email_validator import EmailNotValidError, validate_email


def normalise_email(address: str) -> str | None:
    """The normalised address, or None when it is not deliverable-looking (syntax and domain form)."""
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def normalise_phone(number: str, region: str | None) -> str | None:
    """The E.164 form of a valid number; a national number needs the customer's country."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_locale(value: str) -> str | None:
    try:
        return str(Locale.parse(value.replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


@cache
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@cache
def countries() -> frozenset[str]:
    """ISO 3166 alpha-2 regions known to libphonenumber (every country that has phone numbers)."""
    return frozenset(phonenumbers.SUPPORTED_REGIONS)


def map_distinct(values: pl.Series, function: Callable[[str], str | None]) -> pl.Series:
    """Apply a Python function once per distinct non-null value."""
    distinct = values.drop_nulls().unique()
    lookup = {value: function(value) for value in distinct.to_list()}
    return values.replace_strict(lookup, default=None, return_dtype=pl.String)


def normalise_phones(numbers: pl.Series, regions: pl.Series) -> pl.Series:
    pairs = pl.DataFrame({"number": numbers, "region": regions})
    distinct = pairs.drop_nulls("number").unique()
    lookup = pl.DataFrame(
        {
            "number": distinct["number"],
            "region": distinct["region"],
            "e164": [normalise_phone(n, r) for n, r in distinct.iter_rows()],
        },
        schema={"number": pl.String, "region": pl.String, "e164": pl.String},
    )
    joined = pairs.join(
        lookup,
        on=["number", "region"],
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )
    return joined["e164"]
