"""Reminder pauses collectors recorded (``reminder_pauses``), as a day's plan reads them."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import Connection, Select, func, or_, select

from reminder_pipeline.core.planning.pauses import PAUSE_SCHEMA
from reminder_pipeline.ledger.bulk import fetch
from reminder_pipeline.ledger.schema import reminder_pauses


def paused_query(day: date) -> Select[tuple[str, date]]:
    """``PAUSE_SCHEMA``'s query: customers paused on ``day`` (begun by then, not over, not ended by a resume),
    with the last day of their latest pause (the dashboard adds a filter by customer)."""
    p = reminder_pauses
    return (
        select(p.c.customer_id, func.max(p.c.until_date).label("paused_until"))
        .where(p.c.paused_on <= day, p.c.until_date >= day, or_(p.c.ended_on.is_(None), p.c.ended_on > day))
        .group_by(p.c.customer_id)
    )


def paused_on(connection: Connection, day: date) -> pl.DataFrame:
    """``PAUSE_SCHEMA``: customers paused on ``day``."""
    return fetch(connection, paused_query(day), PAUSE_SCHEMA)
