"""Rendering's side of the outbox: the day's message rows to render, and the rendered messages."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import Connection, select

from reminder_pipeline.core.changes import Merge
from reminder_pipeline.core.outbox import COLLECTOR_CHANNEL, RENDERABLE, STATEMENT_LADDER
from reminder_pipeline.ledger.bulk import fetch, json_array, schema_of, upsert
from reminder_pipeline.ledger.schema import outbox, reminder_messages

RENDER_SCHEMA = schema_of(
    outbox,
    [
        "outbox_id",
        "customer_id",
        "episode_id",
        "ladder",
        "step",
        "tone",
        "channel",
        "business_date",
        "send_on",
        "window_start",
        "window_end",
        "status",
        "invoice_ids",
        "amount_minor",
        "currency",
    ],
)


def messages_to_render(connection: Connection, day: date, *, statements: bool = False) -> pl.DataFrame:
    """The day's unsent reminder rows (planned, rendered or held), with their invoice ids as a list; statements
    of account (``ladder`` ``statement``) with ``statements=True`` instead: the statement run writes those."""
    kind = outbox.c.ladder == STATEMENT_LADDER if statements else outbox.c.ladder != STATEMENT_LADDER
    query = select(*[outbox.c[c] for c in RENDER_SCHEMA]).where(
        outbox.c.business_date == day, outbox.c.status.in_(RENDERABLE), outbox.c.channel != COLLECTOR_CHANNEL, kind
    )
    return fetch(connection, query, RENDER_SCHEMA).with_columns(
        pl.col("invoice_ids").str.json_decode(pl.List(pl.String))
    )


MESSAGE_COLUMNS = [c.name for c in reminder_messages.columns if c.name != "rendered_at"]


def write_messages(connection: Connection, messages: pl.DataFrame) -> int:
    """Store rendered messages, replacing an earlier rendering of the same outbox row."""
    rows = messages.select(MESSAGE_COLUMNS).with_columns(json_array(pl.col("invoice_ids")).alias("invoice_ids"))
    replace = {c: Merge.REPLACE for c in MESSAGE_COLUMNS if c != "outbox_id"}
    return upsert(connection, reminder_messages, rows, key=["outbox_id"], merge=replace)


def messages_of_day(connection: Connection, day: date) -> pl.DataFrame:
    """The day's rendered messages with their outbox state (for reports and the dashboard)."""
    m = reminder_messages
    own = ["outbox_id", "channel", "template", "recipient", "subject", "body_text", "sms_segments", "problems"]
    columns = {**schema_of(m, own), **schema_of(outbox, ["customer_id", "status"])}
    query = (
        select(*[m.c[c] if c in own else outbox.c[c] for c in columns])
        .join(outbox, outbox.c.outbox_id == m.c.outbox_id)
        .where(outbox.c.business_date == day)
    )
    return fetch(connection, query, columns).sort("outbox_id")
