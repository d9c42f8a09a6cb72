"""Masks for personal data shown in logs and Dagster metadata (promise 8).

Every mask fails closed: whatever it is given — a national format, separators, an extension,
non-ASCII digits, garbage, an empty string — what comes out shows at most the documented few
characters, and a value a mask does not understand comes out as ``***``.
"""

from __future__ import annotations

import re

import phonenumbers
import polars as pl
from phonenumbers import PhoneNumberFormat

HIDDEN = "***"
MIN_PHONE_DIGITS = 7
"""A number with fewer digits is hidden whole: its first and last two digits would be most of it."""
SHOWN_TOP_LEVEL_DOMAIN = r"\.([A-Za-z]{2,6})$"
"""The last label of a domain is shown only when it looks like a top-level domain (letters, 2 to 6)."""


def mask_name(name: pl.Expr) -> pl.Expr:
    """Each word's first character: ``Jürgen Müller`` becomes ``J*** M***`` (a word: anything between spaces)."""
    return name.str.replace_all(r"(\S)\S*", "${1}" + HIDDEN)


def mask_email(address: pl.Expr) -> pl.Expr:
    """``jane.doe@example.com`` becomes ``j***@e***.com``; text without ``@`` keeps only its first character."""
    text = address.str.strip_chars()
    local = text.str.extract(r"^(.*)@", 1)
    domain = text.str.extract(r"@([^@]*)$", 1)
    top = domain.str.extract(SHOWN_TOP_LEVEL_DOMAIN, 1)
    masked_domain = pl.concat_str(
        domain.str.slice(0, 1),
        pl.lit(HIDDEN),
        pl.when(top.is_not_null()).then(pl.lit(".") + top).otherwise(pl.lit("")),
    )
    return (
        pl.when(address.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(local.is_null())
        .then(text.str.slice(0, 1) + pl.lit(HIDDEN))
        .otherwise(pl.concat_str(local.str.slice(0, 1), pl.lit(HIDDEN + "@"), masked_domain))
    )


def mask_phone(number: pl.Expr) -> pl.Expr:
    """The first and last two digits, whatever the format: ``+49 151 1234-5678`` becomes ``+4***78``.

    Digits of any script count as digits; a number with fewer than ``MIN_PHONE_DIGITS`` digits,
    or text without any, becomes ``***``.
    """
    digits = number.str.replace_all(r"\D", "")
    plus = pl.when(number.str.strip_chars_start().str.starts_with("+")).then(pl.lit("+")).otherwise(pl.lit(""))
    shown = pl.concat_str(plus, digits.str.slice(0, 1), pl.lit(HIDDEN), digits.str.slice(-2, 2))
    return (
        pl.when(number.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(digits.str.len_chars() >= MIN_PHONE_DIGITS)
        .then(shown)
        .otherwise(pl.lit(HIDDEN))
    )


def _one(mask: pl.Expr) -> str:
    return str(pl.select(mask).item())


def _phone_forms(phone: str) -> set[str]:
    """The number as given and as libphonenumber writes it (E.164, international, national)."""
    forms = {phone.strip()}
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return forms
    formats = (PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL)
    return forms | {phonenumbers.format_number(parsed, f) for f in formats}


def mask_text(text: str, *, name: str | None = None, email: str | None = None, phone: str | None = None) -> str:
    """``text`` (a message shown as a preview) with the customer's address, number and name masked.

    The address in any letter case; the number as given and in its usual forms; the name as
    written and word by word in any case (a template may greet by first name or in capitals).
    """
    replacements: list[tuple[re.Pattern[str], str]] = []
    if email and email.strip():
        replacements.append((re.compile(re.escape(email.strip()), re.IGNORECASE), _one(mask_email(pl.lit(email)))))
    if phone and phone.strip():
        masked = _one(mask_phone(pl.lit(phone)))
        for form in sorted(_phone_forms(phone), key=len, reverse=True):
            replacements.append((re.compile(re.escape(form)), masked))
    if name and name.strip():
        whole = name.strip()
        replacements.append((re.compile(re.escape(whole), re.IGNORECASE), _one(mask_name(pl.lit(whole)))))
        for word in sorted(set(whole.split()), key=len, reverse=True):
            if len(word) > 1:
                pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
                replacements.append((pattern, _one(mask_name(pl.lit(word)))))
    for pattern, masked in replacements:
        text = pattern.sub(masked.replace("\\", "\\\\"), text)
    return text
