"""Delivery: what a send attempt needs on an outbox row, the record of every attempt, and contacts
a provider refused.

- ``outbox``: ``attempts`` and ``next_attempt_at`` (retries with backoff), ``claimed_by`` and
  ``lease_until`` (the worker that holds a row in ``sending``, and until when), ``sending_at``,
  ``provider``, ``provider_id`` (SendGrid ``X-Message-Id``, Twilio ``sid``), ``provider_status``,
  ``sent_at`` and ``last_error``.
- ``customers``: ``email_refused``/``phone_refused`` — the address a provider refused for good, and
  when: the channel no longer reaches the customer until their address changes.
- ``delivery_attempts``: one row per provider call, whatever its outcome.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _moment(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True))


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(_moment("next_attempt_at"))
        batch.add_column(sa.Column("claimed_by", sa.String(64)))
        batch.add_column(_moment("lease_until"))
        batch.add_column(_moment("sending_at"))
        batch.add_column(sa.Column("provider", sa.String(16)))
        batch.add_column(sa.Column("provider_id", sa.String(64)))
        batch.add_column(sa.Column("provider_status", sa.String(24)))
        batch.add_column(_moment("sent_at"))
        batch.add_column(sa.Column("last_error", sa.String(200)))
    op.create_index("ix_outbox_send_on_status", "outbox", ["send_on", "status"])
    op.create_index("ix_outbox_provider_id", "outbox", ["provider_id"])
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("email_refused", sa.String(320)))
        batch.add_column(_moment("email_refused_at"))
        batch.add_column(sa.Column("phone_refused", sa.String(20)))
        batch.add_column(_moment("phone_refused_at"))
    op.create_table(
        "delivery_attempts",
        sa.Column("attempt_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("outbox_id", sa.Integer, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("worker", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("error_code", sa.String(16)),
        sa.Column("detail", sa.String(300), nullable=False),
        sa.Column("provider_id", sa.String(64)),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.outbox_id"]),
        sa.PrimaryKeyConstraint("attempt_id"),
    )
    op.create_index("ix_delivery_attempts_outbox_id", "delivery_attempts", ["outbox_id"])


def downgrade() -> None:
    op.drop_index("ix_delivery_attempts_outbox_id", table_name="delivery_attempts")
    op.drop_table("delivery_attempts")
    with op.batch_alter_table("customers") as batch:
        for column in ("phone_refused_at", "phone_refused", "email_refused_at", "email_refused"):
            batch.drop_column(column)
    op.drop_index("ix_outbox_provider_id", table_name="outbox")
    op.drop_index("ix_outbox_send_on_status", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        for column in (
            "last_error",
            "sent_at",
            "provider_status",
            "provider_id",
            "provider",
            "sending_at",
            "lease_until",
            "claimed_by",
            "next_attempt_at",
            "attempts",
        ):
            batch.drop_column(column)
