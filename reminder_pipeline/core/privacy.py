"""Masks for personal data shown in logs and Dagster metadata (promise 8)."""

from __future__ import annotations

import polars as pl


def mask_name(name: pl.Expr) -> pl.Expr:
    """Each word's first letter: ``Jürgen Müller`` becomes ``J*** M***``."""
    return name.str.replace_all(r"(\w)\w*", "${1}***")


def mask_email(address: pl.Expr) -> pl.Expr:
    """``jane.doe@example.com`` becomes ``j***@e***.com``."""
    return address.str.replace(r"^(.)[^@]*@(.)[^.]*(\..*)?$", "${1}***@${2}***${3}")


def mask_phone(number: pl.Expr) -> pl.Expr:
    """The first and last two digits: ``+4915112345678`` becomes ``+4***78``."""
    return number.str.replace(r"^(\+?\d)(\d*)(\d\d)$", "${1}***${3}")


def mask_recipient(channel: pl.Expr, recipient: pl.Expr) -> pl.Expr:
    return pl.when(channel == "sms").then(mask_phone(recipient)).otherwise(mask_email(recipient))
