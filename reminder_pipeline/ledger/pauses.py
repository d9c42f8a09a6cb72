"""Reminder pauses collectors recorded (``reminder_pauses``), as a day's plan reads them."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import Connection, func, or_, select

from reminder_pipeline.core.planning.pauses import PAUSE_SCHEMA
from reminder_pipeline.ledger.bulk import fetch
from reminder_pipeline.ledger.schema import reminder_pauses


def paused_on(connection: Connection, day: date) -> pl.DataFrame:
    """``PAUSE_SCHEMA``: customers paused on ``day`` (begun by then, not over, not ended by a resume),
    with the last day of their latest pause."""
    p = reminder_pauses
    query = (
        select(p.c.customer_id, func.max(p.c.until_date).label("paused_until"))
        .where(p.c.paused_on <= day, p.c.until_date >= day, or_(p.c.ended_on.is_(None), p.c.ended_on > day))
        .group_by(p.c.customer_id)
    )
    return fetch(connection, query, PAUSE_SCHEMA)
