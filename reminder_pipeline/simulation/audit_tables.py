"""What the audit reads: the ledger's tables as they are at the end, and the provider's message log.

Nothing here comes from the pipeline's reports: only rows the ledger holds and messages the sandbox
accepted (``sandbox_messages.json``). Times come back in UTC (SQLite hands them back without an offset).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Connection, Table, select

from reminder_pipeline.ledger.schema import (
    customers,
    disputes,
    inbound_events,
    ingest_batches,
    invoices,
    outbox,
    payments,
    quarantine,
    reminder_decisions,
    reminder_messages,
    replies,
)
from reminder_pipeline.ledger.store import Ledger

UTC_TIME = pl.Datetime("us", "UTC")
OUTBOX_COLUMNS = [
    *("outbox_id", "dedupe_key", "customer_id", "episode_id", "ladder", "step", "step_index", "offset_days"),
    *("channel", "business_date", "send_on", "window_start", "window_end", "status", "status_reason"),
    *("invoice_ids", "provider_id", "last_error"),
]


@dataclass(frozen=True)
class Calendar:
    first_day: date
    last_day: date
    outage: tuple[date, ...]
    last_plan_at: datetime | None
    last_delivery_at: datetime | None

    @property
    def catch_up_day(self) -> date | None:
        """The first business day after the outage: the live day the catch-up plans."""
        if not self.outage:
            return None
        day = self.outage[-1] + timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return day

    @property
    def business_days(self) -> list[date]:
        days = [self.first_day + timedelta(days=i) for i in range((self.last_day - self.first_day).days + 1)]
        return [d for d in days if d.weekday() < 5]


def _utc(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _read(connection: Connection, table: Table, columns: list[str], *where: Any) -> pl.DataFrame:
    query = select(*[table.c[c] for c in columns]).where(*where)
    rows = [tuple(_utc(v) if isinstance(v, datetime) else v for v in row) for row in connection.execute(query)]
    schema = {name: _dtype(table.c[name].type.python_type) for name in columns}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _dtype(python_type: type) -> pl.DataType:
    if python_type is datetime:
        return UTC_TIME
    types: dict[type, pl.DataType] = {date: pl.Date(), int: pl.Int64(), bool: pl.Boolean(), float: pl.Float64()}
    return types.get(python_type, pl.String())


@dataclass(frozen=True)
class Tables:
    messages: pl.DataFrame
    """The provider's log: ``reminder_key, channel, to, accepted_at, status``."""
    outbox: pl.DataFrame
    customers: pl.DataFrame
    invoices: pl.DataFrame
    payments: pl.DataFrame
    payment_events: pl.DataFrame
    disputes: pl.DataFrame
    replies: pl.DataFrame
    decisions: pl.DataFrame
    batches: pl.DataFrame
    quarantined: pl.DataFrame
    segments: pl.DataFrame
    """``outbox_id, sms_segments`` of SMS messages (for their price)."""


def message_log(messages: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "reminder_key": [m.get("reminder_key") for m in messages],
            "channel": [m.get("channel") for m in messages],
            "to": [m.get("to") for m in messages],
            "accepted_at": [datetime.fromisoformat(str(m["accepted_at"])).astimezone(UTC) for m in messages],
            "status": [m.get("status") for m in messages],
        },
        schema={
            "reminder_key": pl.String,
            "channel": pl.String,
            "to": pl.String,
            "accepted_at": UTC_TIME,
            "status": pl.String,
        },
    )


def read_tables(ledger: Ledger, messages: list[dict[str, Any]]) -> Tables:
    with ledger.begin() as connection:
        return Tables(
            messages=message_log(messages),
            outbox=_read(
                connection,
                outbox,
                OUTBOX_COLUMNS,
            ),
            customers=_read(
                connection,
                customers,
                ["customer_id", "time_zone", "country", "phone", "email_opt_out_at", "sms_opt_out_at"],
            ),
            invoices=_read(
                connection,
                invoices,
                ["invoice_id", "customer_id", "issue_date", "due_date", "amount_minor", "known_on"],
            ),
            payments=_read(connection, payments, ["payment_id", "invoice_id", "amount_minor", "paid_date", "source"]),
            payment_events=_read(
                connection,
                inbound_events,
                ["dedupe_key", "received_at", "status", "detail"],
                inbound_events.c.source == "payment",
            ),
            disputes=_read(connection, disputes, ["invoice_id", "opened_on", "resolved_on", "source"]),
            replies=_read(connection, replies, ["channel", "provider_id", "customer_id", "received_at"]),
            decisions=_read(
                connection,
                reminder_decisions,
                ["business_date", "customer_id", "decision", "episode_id", "step", "channel"],
            ),
            batches=_read(connection, ingest_batches, ["source", "source_key", "rows_in", "accepted", "quarantined"]),
            quarantined=_read(connection, quarantine, ["source_key", "entity"]),
            segments=_read(
                connection, reminder_messages, ["outbox_id", "sms_segments"], reminder_messages.c.channel == "sms"
            ),
        )
