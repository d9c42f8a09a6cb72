"""Ledger tables of listening (migration 0006): what providers, payment processors and customers tell us.

- ``inbound_events``: every signed webhook request or broker message, stored durably before it is
  acknowledged (one row per ``(source, dedupe_key)``: a provider's retry or a replay is a no-op), then
  processed; one about a message or invoice the ledger does not know stays ``unmatched`` for
  reconciliation.
- ``delivery_events``: each provider event about a message we sent (Twilio status callbacks, SendGrid
  events), once per provider event id, linked to its outbox row when known.
- ``replies``: inbound SMS and emails from customers, with what they were classified as and what was done.
- ``tasks``: work for a person — a dispute to look into, a call to make, a claimed payment to find, a
  reply too unclear to act on — once per ``dedupe_key``.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Float, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from reminder_pipeline.ledger.schema.base import metadata

inbound_events = Table(
    "inbound_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(24), nullable=False),
    Column("dedupe_key", String(200), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("processed_at", DateTime(timezone=True)),
    Column("detail", String(300)),
    UniqueConstraint("source", "dedupe_key", name="uq_inbound_events_source_key"),
)
Index("ix_inbound_events_status", inbound_events.c.status, inbound_events.c.event_id)

delivery_events = Table(
    "delivery_events",
    metadata,
    Column("delivery_event_id", Integer, primary_key=True, autoincrement=True),
    Column("provider", String(16), nullable=False),
    Column("provider_event_id", String(200), nullable=False),
    Column("outbox_id", Integer, ForeignKey("outbox.outbox_id")),
    Column("provider_id", String(64)),
    Column("reminder_key", String(300)),
    Column("event", String(24), nullable=False),
    Column("error_code", String(16)),
    Column("detail", String(300)),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("provider", "provider_event_id", name="uq_delivery_events_provider_event"),
)
Index("ix_delivery_events_outbox_id", delivery_events.c.outbox_id)
Index("ix_delivery_events_provider_id", delivery_events.c.provider_id)

replies = Table(
    "replies",
    metadata,
    Column("reply_id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("provider_id", String(200), nullable=False),
    Column("customer_id", String(64), ForeignKey("customers.customer_id")),
    Column("sender", String(320), nullable=False),
    Column("body", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("intent", String(20), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("promised_date", Date),
    Column("action", String(40), nullable=False),
    Column("detail", String(300)),
    UniqueConstraint("channel", "provider_id", name="uq_replies_channel_provider_id"),
)
Index("ix_replies_customer_id", replies.c.customer_id)

tasks = Table(
    "tasks",
    metadata,
    Column("task_id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(200), nullable=False),
    Column("customer_id", String(64), ForeignKey("customers.customer_id")),
    Column("kind", String(24), nullable=False),
    Column("status", String(12), nullable=False),
    Column("reason", String(300), nullable=False),
    Column("source", String(60), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    UniqueConstraint("dedupe_key", name="uq_tasks_dedupe_key"),
)
Index("ix_tasks_status_kind", tasks.c.status, tasks.c.kind)
