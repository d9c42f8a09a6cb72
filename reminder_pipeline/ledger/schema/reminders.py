"""Ledger tables of the reminders domain (migration 0003), on the ledger's one MetaData.

- ``outbox``: every reminder planned, one row per (customer, dunning episode, ladder step,
  channel) — the unique ``dedupe_key`` that makes a reminder reach a provider at most once. Its
  ``status`` follows it from ``planned`` through ``rendered`` (or ``held`` by a failed check) to
  the provider, or to ``cancelled``/``expired`` with a ``status_reason``; a collector hand-off is
  a ``task_open`` row. Delivery (migration 0005) adds what a send needs: attempts and the next one,
  the claiming worker and its lease, the provider's id and status, the last error.
- ``reminder_decisions``: the audit of every decision, one row per customer per planning run,
  kept whatever happens later.
- ``reminder_messages``: the rendered words of each outbox message.
- ``delivery_attempts``: every provider call for an outbox row and its outcome (migration 0005).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

from reminder_pipeline.ledger.schema.base import metadata


def _at(name: str) -> Column:
    return Column(name, DateTime(timezone=True), nullable=False, server_default=func.current_timestamp())


outbox = Table(
    "outbox",
    metadata,
    Column("outbox_id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(300), nullable=False),
    Column("customer_id", String(64), ForeignKey("customers.customer_id"), nullable=False),
    Column("episode_id", String(64), nullable=False),
    Column("ladder", String(40), nullable=False),
    Column("step", String(40), nullable=False),
    Column("step_index", Integer, nullable=False),
    Column("offset_days", Integer, nullable=False),
    Column("tone", String(16)),
    Column("channel", String(16), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("send_on", Date, nullable=False),
    Column("window_start", DateTime(timezone=True)),
    Column("window_end", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),
    Column("status_reason", String(200)),
    Column("invoice_ids", Text, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("policy_version", String(40), nullable=False),
    _at("created_at"),
    _at("updated_at"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("claimed_by", String(64)),
    Column("lease_until", DateTime(timezone=True)),
    Column("sending_at", DateTime(timezone=True)),
    Column("provider", String(16)),
    Column("provider_id", String(64)),
    Column("provider_status", String(24)),
    Column("sent_at", DateTime(timezone=True)),
    Column("last_error", String(200)),
    UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
)
Index("ix_outbox_business_date_status", outbox.c.business_date, outbox.c.status)
Index("ix_outbox_customer_episode", outbox.c.customer_id, outbox.c.episode_id)
Index("ix_outbox_status_window_end", outbox.c.status, outbox.c.window_end)
Index("ix_outbox_send_on_status", outbox.c.send_on, outbox.c.status)
Index("ix_outbox_provider_id", outbox.c.provider_id)

reminder_decisions = Table(
    "reminder_decisions",
    metadata,
    Column("decision_id", Integer, primary_key=True, autoincrement=True),
    Column("business_date", Date, nullable=False),
    Column("customer_id", String(64), ForeignKey("customers.customer_id"), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("decision", String(8), nullable=False),
    Column("reason", String(40)),
    Column("detail", Text, nullable=False),
    Column("segment", String(160)),
    Column("ladder", String(40)),
    Column("episode_id", String(64)),
    Column("days_past_due", Integer),
    Column("step", String(40)),
    Column("step_index", Integer),
    Column("offset_days", Integer),
    Column("tone", String(16)),
    Column("channel", String(16)),
    Column("send_on", Date),
    Column("window_start", DateTime(timezone=True)),
    Column("window_end", DateTime(timezone=True)),
    Column("zones", Text),
    Column("invoice_ids", Text, nullable=False),
    Column("amount_minor", BigInteger),
    Column("currency", String(3)),
    Column("superseded_steps", Text, nullable=False),
    Column("escalated", Boolean, nullable=False),
    Column("policy_version", String(40), nullable=False),
    _at("decided_at"),
)
Index("ix_reminder_decisions_day_customer", reminder_decisions.c.business_date, reminder_decisions.c.customer_id)

reminder_messages = Table(
    "reminder_messages",
    metadata,
    Column("outbox_id", Integer, ForeignKey("outbox.outbox_id"), primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("locale", String(35), nullable=False),
    Column("template", String(200), nullable=False),
    Column("subject", Text),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text),
    Column("sms_encoding", String(8)),
    Column("sms_segments", Integer),
    Column("invoice_ids", Text, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount_text", String(80), nullable=False),
    Column("payment_url", Text, nullable=False),
    Column("unsubscribe_url", Text),
    Column("links_expire_on", Date, nullable=False),
    Column("problems", Text),
    _at("rendered_at"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("attempt_id", Integer, primary_key=True, autoincrement=True),
    Column("outbox_id", Integer, ForeignKey("outbox.outbox_id"), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("worker", String(64), nullable=False),
    Column("provider", String(16), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("http_status", Integer),
    Column("error_code", String(16)),
    Column("detail", String(300), nullable=False),
    Column("provider_id", String(64)),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
)
