"""SQLAlchemy Core schema of the ledger, a module per domain on one MetaData. Changes go through a new
Alembic migration too.

Importing this package defines every table, so ``metadata`` is complete for migrations and
comparisons wherever the schema is used.
"""

from __future__ import annotations

from reminder_pipeline.ledger.schema.base import metadata, text_limits
from reminder_pipeline.ledger.schema.billing import (
    customers,
    disputes,
    ingest_batches,
    invoices,
    payments,
    promises_to_pay,
    quarantine,
)
from reminder_pipeline.ledger.schema.collections import collector_actions, reminder_pauses, users
from reminder_pipeline.ledger.schema.listening import delivery_events, inbound_events, replies, tasks
from reminder_pipeline.ledger.schema.reminders import delivery_attempts, outbox, reminder_decisions, reminder_messages
from reminder_pipeline.ledger.schema.risk import customer_segments, invoice_predictions, model_versions, risk_scores
from reminder_pipeline.ledger.schema.sessions import dashboard_sessions, login_failures

__all__ = [
    "collector_actions",
    "customer_segments",
    "customers",
    "dashboard_sessions",
    "delivery_attempts",
    "delivery_events",
    "disputes",
    "inbound_events",
    "ingest_batches",
    "invoice_predictions",
    "invoices",
    "login_failures",
    "metadata",
    "model_versions",
    "outbox",
    "payments",
    "promises_to_pay",
    "quarantine",
    "reminder_decisions",
    "reminder_messages",
    "reminder_pauses",
    "replies",
    "risk_scores",
    "tasks",
    "text_limits",
    "users",
]
