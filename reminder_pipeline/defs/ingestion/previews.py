"""Previews of ingested rows for the Dagster UI: a few customers, their name, address and number masked."""

from __future__ import annotations

from datetime import date

import dagster as dg
import polars as pl
from sqlalchemy import Connection

from reminder_pipeline.core.privacy import mask_email, mask_name, mask_phone
from reminder_pipeline.defs.common.metadata import table
from reminder_pipeline.ledger.previews import customers_known_between

PREVIEW_ROWS = 5


def customer_preview(connection: Connection, first: date, last: date) -> dg.TableMetadataValue:
    rows = customers_known_between(connection, first, last, PREVIEW_ROWS)
    return table(
        rows.with_columns(
            mask_name(pl.col("name")).alias("name"),
            mask_email(pl.col("email")).alias("email"),
            mask_phone(pl.col("phone")).alias("phone"),
        )
    )
