"""Small samples of ledger rows for the Dagster UI's previews (masked by the caller before they are shown)."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import Connection, select

from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.bulk import fetch, schema_of

CUSTOMER_COLUMNS = ["customer_id", "name", "email", "phone", "country", "time_zone", "locale", "preferred_channel"]


def customers_known_between(connection: Connection, first: date, last: date, limit: int) -> pl.DataFrame:
    """The first ``limit`` customers (by id) whose values were learnt on a business day in ``first .. last``."""
    c = schema.customers
    query = (
        select(*(c.c[name] for name in CUSTOMER_COLUMNS))
        .where(c.c.known_on >= first, c.c.known_on <= last)
        .order_by(c.c.customer_id)
        .limit(limit)
    )
    return fetch(connection, query, schema_of(c, CUSTOMER_COLUMNS))
