"""What the operations sensors read: payments that arrived live, and when providers last said anything."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, func, select

from reminder_pipeline.ledger.schema import delivery_events, inbound_events, outbox

PAYMENT_SOURCES = ("payment", "stripe", "broker")
"""Inbox sources that carry payments (``listening.inbox.EventSource`` values)."""


def live_payments_since(connection: Connection, after_event_id: int) -> tuple[int, int]:
    """How many payments arrived live (processed) after ``after_event_id``, and the latest event id seen."""
    query = select(func.count(), func.max(inbound_events.c.event_id)).where(
        inbound_events.c.source.in_(PAYMENT_SOURCES),
        inbound_events.c.status == "processed",
        inbound_events.c.event_id > after_event_id,
    )
    count, latest = connection.execute(query).one()
    return int(count), int(latest or after_event_id)


def provider_silence(connection: Connection, provider: str) -> tuple[datetime | None, datetime | None]:
    """When ``provider`` was last handed a message, and when it last sent an event about any message."""
    last_sent = connection.execute(select(func.max(outbox.c.sent_at)).where(outbox.c.provider == provider)).scalar()
    last_event = connection.execute(
        select(func.max(delivery_events.c.received_at)).where(delivery_events.c.provider == provider)
    ).scalar()
    return _aware(last_sent), _aware(last_event)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive UTC wall times."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)
