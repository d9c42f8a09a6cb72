"""Indexes a reply's sender is looked up by: the customers' phone, and their email in lower case.

An inbound SMS or email names its sender by phone or address only; without these every reply read the
whole customers table.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_customers_phone", "customers", ["phone"])
    op.create_index("ix_customers_email_lower", "customers", [sa.text("lower(email)")])


def downgrade() -> None:
    op.drop_index("ix_customers_email_lower", table_name="customers")
    op.drop_index("ix_customers_phone", table_name="customers")
