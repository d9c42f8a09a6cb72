"""Whether a channel can reach a customer: a contact for it, consent for SMS, no opt-out.

One definition for segmentation (the channel of a segment) and planning (the channel of a
reminder), as polars expressions over the customers' contact columns.
"""

from __future__ import annotations

import polars as pl

OPT_OUT_COLUMNS = {"email": "email_opt_out_at", "sms": "sms_opt_out_at"}


def reachable(channel: str) -> pl.Expr:
    if channel == "email":
        return pl.col("email").is_not_null() & pl.col("email_opt_out_at").is_null()
    return pl.col("phone").is_not_null() & pl.col("sms_opt_out_at").is_null() & pl.col("sms_consent").fill_null(False)


def reachable_by(channel: pl.Expr) -> pl.Expr:
    """Per row, whether the channel named in ``channel`` reaches the customer (false for no channel)."""
    expr: pl.Expr = pl.lit(False)
    for name in OPT_OUT_COLUMNS:
        expr = pl.when(channel == name).then(reachable(name)).otherwise(expr)
    return expr


def opted_out_of(channel: pl.Expr) -> pl.Expr:
    """Per row, whether the customer opted out of the channel named in ``channel``."""
    expr: pl.Expr = pl.lit(False)
    for name, column in OPT_OUT_COLUMNS.items():
        expr = pl.when(channel == name).then(pl.col(column).is_not_null()).otherwise(expr)
    return expr
