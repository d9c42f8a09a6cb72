"""When each dashboard user last logged in, kept on the user: a session row is deleted once it has
expired, so the sessions alone forget it. Filled from the sessions the ledger still holds.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE users SET last_login_at = (SELECT max(s.created_at) FROM dashboard_sessions s"
        " WHERE s.user_id = users.user_id)"
    )


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN in place (SQLite 3.35+): a batch copy would drop ``users``, which the
    # sessions reference.
    op.drop_column("users", "last_login_at")
