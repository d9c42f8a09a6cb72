"""Dashboard sessions and the login brake in the ledger, shared by every server process.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _moment(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "dashboard_sessions",
        sa.Column("session_digest", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        _moment("created_at"),
        _moment("last_seen_at"),
        _moment("expires_at"),
        _moment("ended_at", nullable=True),
        sa.Column("ended_reason", sa.String(16)),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"]),
        sa.PrimaryKeyConstraint("session_digest"),
    )
    op.create_index("ix_dashboard_sessions_user", "dashboard_sessions", ["user_id", "ended_at"])
    op.create_index("ix_dashboard_sessions_expires", "dashboard_sessions", ["expires_at"])
    op.create_table(
        "login_failures",
        sa.Column("failure_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("key_digest", sa.String(64), nullable=False),
        _moment("failed_at"),
        sa.PrimaryKeyConstraint("failure_id"),
    )
    op.create_index("ix_login_failures_key", "login_failures", ["key_digest", "failed_at"])
    op.create_index("ix_login_failures_failed_at", "login_failures", ["failed_at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_failed_at", table_name="login_failures")
    op.drop_index("ix_login_failures_key", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_index("ix_dashboard_sessions_expires", table_name="dashboard_sessions")
    op.drop_index("ix_dashboard_sessions_user", table_name="dashboard_sessions")
    op.drop_table("dashboard_sessions")
