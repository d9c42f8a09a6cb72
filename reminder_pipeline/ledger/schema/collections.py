"""Ledger tables of the collections dashboard (migration 0007): who may log in, what collectors did,
and the pauses they put on a customer's reminders.

- ``users``: a dashboard user, their argon2 password hash and role (viewer, collector, admin), and
  since migration 0010 when they last logged in (``last_login_at``, written by each login).
- ``collector_actions``: the audit of every action taken from the dashboard — who, when, on which
  customer, and what (a pause, a resume, a dispute, a promise to pay, a call and its outcome) —
  kept whatever happens later. ``record_id`` names the row the action wrote (a dispute, a promise,
  a pause).
- ``reminder_pauses``: reminders paused for a customer until a date (inclusive); ``ended_on`` is set
  when a collector resumes them earlier. The plan skips a paused customer (``paused``).

It also indexes older tables by customer, for the dashboard's customer page.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, ForeignKey, Index, Integer, String, Table, Text, func

from reminder_pipeline.ledger.schema.base import metadata
from reminder_pipeline.ledger.schema.reminders import reminder_decisions
from reminder_pipeline.ledger.schema.risk import customer_segments, risk_scores


def _at(name: str) -> Column:
    return Column(name, DateTime(timezone=True), nullable=False, server_default=func.current_timestamp())


users = Table(
    "users",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    _at("created_at"),
    Column("disabled_at", DateTime(timezone=True)),
    Column("last_login_at", DateTime(timezone=True)),
)

collector_actions = Table(
    "collector_actions",
    metadata,
    Column("action_id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", String(64), ForeignKey("customers.customer_id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("acted_at", DateTime(timezone=True), nullable=False),
    Column("business_date", Date, nullable=False),
    Column("until_date", Date),
    Column("invoice_id", String(64)),
    Column("amount_minor", BigInteger),
    Column("currency", String(3)),
    Column("outcome", String(24)),
    Column("note", Text),
    Column("record_id", String(100)),
)
Index("ix_collector_actions_customer", collector_actions.c.customer_id, collector_actions.c.acted_at)

reminder_pauses = Table(
    "reminder_pauses",
    metadata,
    Column("pause_id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", String(64), ForeignKey("customers.customer_id"), nullable=False, index=True),
    Column("paused_on", Date, nullable=False),
    Column("until_date", Date, nullable=False),
    Column("reason", Text),
    Column("created_by", String(64), nullable=False),
    _at("created_at"),
    Column("ended_on", Date),
    Column("ended_by", String(64)),
)

Index("ix_reminder_decisions_customer", reminder_decisions.c.customer_id, reminder_decisions.c.business_date)
Index("ix_risk_scores_customer", risk_scores.c.customer_id, risk_scores.c.business_date)
Index("ix_customer_segments_customer", customer_segments.c.customer_id, customer_segments.c.business_date)
