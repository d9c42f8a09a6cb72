"""Listening: the inbox of signed webhooks and broker messages, delivery events, replies, tasks.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _moment(name: str, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "inbound_events",
        sa.Column("event_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(24), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        _moment("received_at", nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _moment("processed_at"),
        sa.Column("detail", sa.String(300)),
        sa.PrimaryKeyConstraint("event_id"),
        sa.UniqueConstraint("source", "dedupe_key", name="uq_inbound_events_source_key"),
    )
    op.create_index("ix_inbound_events_status", "inbound_events", ["status", "event_id"])
    op.create_table(
        "delivery_events",
        sa.Column("delivery_event_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("provider_event_id", sa.String(200), nullable=False),
        sa.Column("outbox_id", sa.Integer),
        sa.Column("provider_id", sa.String(64)),
        sa.Column("reminder_key", sa.String(300)),
        sa.Column("event", sa.String(24), nullable=False),
        sa.Column("error_code", sa.String(16)),
        sa.Column("detail", sa.String(300)),
        _moment("occurred_at", nullable=False),
        _moment("received_at", nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.outbox_id"]),
        sa.PrimaryKeyConstraint("delivery_event_id"),
        sa.UniqueConstraint("provider", "provider_event_id", name="uq_delivery_events_provider_event"),
    )
    op.create_index("ix_delivery_events_outbox_id", "delivery_events", ["outbox_id"])
    op.create_index("ix_delivery_events_provider_id", "delivery_events", ["provider_id"])
    op.create_table(
        "replies",
        sa.Column("reply_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("provider_id", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(64)),
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        _moment("received_at", nullable=False),
        sa.Column("intent", sa.String(20), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("promised_date", sa.Date),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.String(300)),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.customer_id"]),
        sa.PrimaryKeyConstraint("reply_id"),
        sa.UniqueConstraint("channel", "provider_id", name="uq_replies_channel_provider_id"),
    )
    op.create_index("ix_replies_customer_id", "replies", ["customer_id"])
    op.create_table(
        "tasks",
        sa.Column("task_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(64)),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("source", sa.String(60), nullable=False),
        _moment("created_at", nullable=False),
        _moment("closed_at"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.customer_id"]),
        sa.PrimaryKeyConstraint("task_id"),
        sa.UniqueConstraint("dedupe_key", name="uq_tasks_dedupe_key"),
    )
    op.create_index("ix_tasks_status_kind", "tasks", ["status", "kind"])


def downgrade() -> None:
    for table, indexes in (
        ("tasks", ["ix_tasks_status_kind"]),
        ("replies", ["ix_replies_customer_id"]),
        ("delivery_events", ["ix_delivery_events_provider_id", "ix_delivery_events_outbox_id"]),
        ("inbound_events", ["ix_inbound_events_status"]),
    ):
        for index in indexes:
            op.drop_index(index, table_name=table)
        op.drop_table(table)
