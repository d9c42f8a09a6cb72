"""One value masked for a log line (promise 8), with the project's masks."""

from __future__ import annotations

import polars as pl

from reminder_pipeline.core.privacy import HIDDEN, mask_email, mask_phone


def masked_phone(number: str | None) -> str:
    if not number:
        return HIDDEN
    return str(pl.select(mask_phone(pl.lit(number, dtype=pl.String))).item())


def masked_email(address: str | None) -> str:
    """An address, or a ``Name <address>`` header, masked: the display name is dropped."""
    if not address:
        return HIDDEN
    inner = address.rsplit("<", 1)[-1].split(">", 1)[0] if "<" in address else address
    return str(pl.select(mask_email(pl.lit(inner, dtype=pl.String))).item())
