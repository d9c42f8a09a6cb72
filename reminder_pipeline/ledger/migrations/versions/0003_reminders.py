"""Reminders: the outbox, the audit of decisions and the rendered messages.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _at(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.current_timestamp())


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("outbox_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.String(300), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("episode_id", sa.String(64), nullable=False),
        sa.Column("ladder", sa.String(40), nullable=False),
        sa.Column("step", sa.String(40), nullable=False),
        sa.Column("step_index", sa.Integer, nullable=False),
        sa.Column("offset_days", sa.Integer, nullable=False),
        sa.Column("tone", sa.String(16)),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("send_on", sa.Date, nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True)),
        sa.Column("window_end", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.String(200)),
        sa.Column("invoice_ids", sa.Text, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("policy_version", sa.String(40), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("outbox_id", name="pk_outbox"),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.customer_id"], name="fk_outbox_customer_id_customers"),
    )
    op.create_index("ix_outbox_business_date_status", "outbox", ["business_date", "status"])
    op.create_index("ix_outbox_customer_episode", "outbox", ["customer_id", "episode_id"])
    op.create_index("ix_outbox_status_window_end", "outbox", ["status", "window_end"])
    op.create_table(
        "reminder_decisions",
        sa.Column("decision_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(40)),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("segment", sa.String(160)),
        sa.Column("ladder", sa.String(40)),
        sa.Column("episode_id", sa.String(64)),
        sa.Column("days_past_due", sa.Integer),
        sa.Column("step", sa.String(40)),
        sa.Column("step_index", sa.Integer),
        sa.Column("offset_days", sa.Integer),
        sa.Column("tone", sa.String(16)),
        sa.Column("channel", sa.String(16)),
        sa.Column("send_on", sa.Date),
        sa.Column("window_start", sa.DateTime(timezone=True)),
        sa.Column("window_end", sa.DateTime(timezone=True)),
        sa.Column("zones", sa.Text),
        sa.Column("invoice_ids", sa.Text, nullable=False),
        sa.Column("amount_minor", sa.BigInteger),
        sa.Column("currency", sa.String(3)),
        sa.Column("superseded_steps", sa.Text, nullable=False),
        sa.Column("escalated", sa.Boolean, nullable=False),
        sa.Column("policy_version", sa.String(40), nullable=False),
        _at("decided_at"),
        sa.PrimaryKeyConstraint("decision_id", name="pk_reminder_decisions"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"], name="fk_reminder_decisions_customer_id_customers"
        ),
    )
    op.create_index("ix_reminder_decisions_day_customer", "reminder_decisions", ["business_date", "customer_id"])
    op.create_table(
        "reminder_messages",
        sa.Column("outbox_id", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("template", sa.String(200), nullable=False),
        sa.Column("subject", sa.Text),
        sa.Column("body_text", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text),
        sa.Column("sms_encoding", sa.String(8)),
        sa.Column("sms_segments", sa.Integer),
        sa.Column("invoice_ids", sa.Text, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_text", sa.String(80), nullable=False),
        sa.Column("payment_url", sa.Text, nullable=False),
        sa.Column("unsubscribe_url", sa.Text),
        sa.Column("links_expire_on", sa.Date, nullable=False),
        sa.Column("problems", sa.Text),
        _at("rendered_at"),
        sa.PrimaryKeyConstraint("outbox_id", name="pk_reminder_messages"),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.outbox_id"], name="fk_reminder_messages_outbox_id_outbox"),
    )


def downgrade() -> None:
    for table in ("reminder_messages", "reminder_decisions", "outbox"):
        op.drop_table(table)
