"""Collections dashboard: users, the audit of collector actions, reminder pauses, and indexes by customer.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _moment(name: str, *, nullable: bool = True, default: bool = False) -> sa.Column:
    server_default = sa.func.current_timestamp() if default else None
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, server_default=server_default)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        _moment("created_at", nullable=False, default=True),
        _moment("disabled_at"),
        sa.PrimaryKeyConstraint("user_id"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "collector_actions",
        sa.Column("action_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        _moment("acted_at", nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("until_date", sa.Date),
        sa.Column("invoice_id", sa.String(64)),
        sa.Column("amount_minor", sa.BigInteger),
        sa.Column("currency", sa.String(3)),
        sa.Column("outcome", sa.String(24)),
        sa.Column("note", sa.Text),
        sa.Column("record_id", sa.String(100)),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.customer_id"]),
        sa.PrimaryKeyConstraint("action_id"),
    )
    op.create_index("ix_collector_actions_customer", "collector_actions", ["customer_id", "acted_at"])
    op.create_table(
        "reminder_pauses",
        sa.Column("pause_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("paused_on", sa.Date, nullable=False),
        sa.Column("until_date", sa.Date, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("created_by", sa.String(64), nullable=False),
        _moment("created_at", nullable=False, default=True),
        sa.Column("ended_on", sa.Date),
        sa.Column("ended_by", sa.String(64)),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.customer_id"]),
        sa.PrimaryKeyConstraint("pause_id"),
    )
    op.create_index("ix_reminder_pauses_customer_id", "reminder_pauses", ["customer_id"])
    op.create_index("ix_reminder_decisions_customer", "reminder_decisions", ["customer_id", "business_date"])
    op.create_index("ix_risk_scores_customer", "risk_scores", ["customer_id", "business_date"])
    op.create_index("ix_customer_segments_customer", "customer_segments", ["customer_id", "business_date"])


def downgrade() -> None:
    op.drop_index("ix_customer_segments_customer", table_name="customer_segments")
    op.drop_index("ix_risk_scores_customer", table_name="risk_scores")
    op.drop_index("ix_reminder_decisions_customer", table_name="reminder_decisions")
    op.drop_index("ix_reminder_pauses_customer_id", table_name="reminder_pauses")
    op.drop_table("reminder_pauses")
    op.drop_index("ix_collector_actions_customer", table_name="collector_actions")
    op.drop_table("collector_actions")
    op.drop_table("users")
