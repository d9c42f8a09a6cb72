"""SMS length in segments: GSM-7 (160 septets, 153 a part) or, with any other character, UCS-2 (70, 67)."""

from __future__ import annotations

import polars as pl

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"
"""Characters of the extension table: an escape and the character, two septets each."""
GSM7_CHARACTERS = GSM7_BASIC + GSM7_EXTENSION


def _class(characters: str) -> str:
    return "[" + "".join(f"\\x{{{ord(c):X}}}" for c in characters) + "]"


GSM7_ONLY = f"^(?:{_class(GSM7_BASIC + GSM7_EXTENSION)})*$"
EXTENSION = _class(GSM7_EXTENSION)
ASTRAL = "[\\x{10000}-\\x{10FFFF}]"
"""Characters outside the Basic Multilingual Plane take two UTF-16 code units."""


def sms_encoding(text: pl.Expr) -> pl.Expr:
    return pl.when(text.str.contains(GSM7_ONLY)).then(pl.lit("GSM-7")).otherwise(pl.lit("UCS-2"))


def sms_segments(text: pl.Expr) -> pl.Expr:
    """How many parts a carrier sends the text in."""
    septets = text.str.len_chars() + text.str.count_matches(EXTENSION)
    units = text.str.len_chars() + text.str.count_matches(ASTRAL)
    gsm = pl.when(septets <= 160).then(1).otherwise((septets + 152) // 153)
    ucs = pl.when(units <= 70).then(1).otherwise((units + 66) // 67)
    return pl.when(text.str.contains(GSM7_ONLY)).then(gsm).otherwise(ucs).cast(pl.Int64)


SMS_TRANSLITERATION = {
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u2007": " ",
    "\u2019": "'",
    "\u2018": "'",
    "\u2013": "-",
    "\u2212": "-",
    "\u200e": "",
    "\u200f": "",
}
"""Typographic spaces and marks that locales put in amounts and dates, as the GSM-7 characters they look
like: one such character would make a whole SMS UCS-2, at less than half the length per part."""


def gsm_safe(text: pl.Expr) -> pl.Expr:
    """Typographic spaces and marks replaced by the GSM-7 characters they look like."""
    return text.str.replace_many(list(SMS_TRANSLITERATION), list(SMS_TRANSLITERATION.values()))
