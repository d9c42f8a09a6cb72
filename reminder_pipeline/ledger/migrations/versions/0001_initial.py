"""Initial ledger: customers, invoices, payments, disputes, promises to pay, quarantine, ingest batches.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.current_timestamp(),
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.current_timestamp(),
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("email", sa.String(320)),
        sa.Column("phone", sa.String(20)),
        sa.Column("country", sa.String(2)),
        sa.Column("region", sa.String(64)),
        sa.Column("time_zone", sa.String(64)),
        sa.Column("locale", sa.String(35)),
        sa.Column("preferred_channel", sa.String(8)),
        sa.Column("email_opt_out_at", sa.DateTime(timezone=True)),
        sa.Column("sms_opt_out_at", sa.DateTime(timezone=True)),
        sa.Column("sms_consent", sa.Boolean),
        sa.Column("billing_cycle_day", sa.SmallInteger),
        sa.Column("paperless_since", sa.Date),
        sa.Column("payment_method", sa.String(40)),
        sa.Column("attributes", sa.Text),
        sa.Column("known_on", sa.Date),
        sa.Column("source", sa.String(500), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("customer_id", name="pk_customers"),
    )
    op.create_table(
        "invoices",
        sa.Column("invoice_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("issue_date", sa.Date, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("attributes", sa.Text),
        sa.Column("known_on", sa.Date),
        sa.Column("source", sa.String(500), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("invoice_id", name="pk_invoices"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name="fk_invoices_customer_id_customers",
        ),
    )
    op.create_index("ix_invoices_customer_id", "invoices", ["customer_id"])
    op.create_index("ix_invoices_issue_date", "invoices", ["issue_date"])
    op.create_index("ix_invoices_due_date", "invoices", ["due_date"])
    op.create_table(
        "payments",
        sa.Column("payment_id", sa.String(100), nullable=False),
        sa.Column("invoice_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("paid_date", sa.Date, nullable=False),
        sa.Column("method", sa.String(40)),
        sa.Column("attributes", sa.Text),
        sa.Column("known_on", sa.Date),
        sa.Column("source", sa.String(500), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("payment_id", name="pk_payments"),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.invoice_id"],
            name="fk_payments_invoice_id_invoices",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name="fk_payments_customer_id_customers",
        ),
    )
    op.create_index("ix_payments_invoice_id", "payments", ["invoice_id"])
    op.create_index("ix_payments_customer_id", "payments", ["customer_id"])
    op.create_index("ix_payments_paid_date", "payments", ["paid_date"])
    op.create_table(
        "disputes",
        sa.Column("dispute_id", sa.String(100), nullable=False),
        sa.Column("invoice_id", sa.String(64), nullable=False),
        sa.Column("opened_on", sa.Date),
        sa.Column("resolved_on", sa.Date),
        sa.Column("reason", sa.Text),
        sa.Column("source", sa.String(500), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("dispute_id", name="pk_disputes"),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.invoice_id"],
            name="fk_disputes_invoice_id_invoices",
        ),
    )
    op.create_index("ix_disputes_invoice_id", "disputes", ["invoice_id"])
    op.create_table(
        "promises_to_pay",
        sa.Column("promise_id", sa.String(100), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("invoice_id", sa.String(64)),
        sa.Column("promised_date", sa.Date, nullable=False),
        sa.Column("amount_minor", sa.BigInteger),
        sa.Column("currency", sa.String(3)),
        sa.Column("made_on", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("source", sa.String(500), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("promise_id", name="pk_promises_to_pay"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name="fk_promises_to_pay_customer_id_customers",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.invoice_id"],
            name="fk_promises_to_pay_invoice_id_invoices",
        ),
    )
    op.create_index("ix_promises_to_pay_customer_id", "promises_to_pay", ["customer_id"])
    op.create_table(
        "quarantine",
        sa.Column("quarantine_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("entity", sa.String(16), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("source_key", sa.String(64), nullable=False),
        sa.Column("source_row", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("raw", sa.Text),
        sa.Column("business_date", sa.Date),
        sa.Column(
            "quarantined_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.current_timestamp(),
        ),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("quarantine_id", name="pk_quarantine"),
        sa.UniqueConstraint("entity", "source_key", "source_row", name="uq_quarantine_row"),
    )
    op.create_index("ix_quarantine_reason", "quarantine", ["reason"])
    op.create_table(
        "ingest_batches",
        sa.Column("batch_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("entity", sa.String(16), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("source_key", sa.String(64), nullable=False),
        sa.Column("business_date", sa.Date),
        sa.Column("rows_in", sa.Integer, nullable=False),
        sa.Column("accepted", sa.Integer, nullable=False),
        sa.Column("quarantined", sa.Integer, nullable=False),
        sa.Column("inserted", sa.Integer, nullable=False),
        sa.Column("updated", sa.Integer, nullable=False),
        sa.Column("unchanged", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name="pk_ingest_batches"),
    )
    op.create_index(
        "ix_ingest_batches_entity_business_date",
        "ingest_batches",
        ["entity", "business_date"],
    )


def downgrade() -> None:
    for table in (
        "ingest_batches",
        "quarantine",
        "promises_to_pay",
        "disputes",
        "payments",
        "invoices",
        "customers",
    ):
        op.drop_table(table)
