"""Risk: model versions, daily risk scores, invoice predictions and customer segments.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _created_at() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.current_timestamp()
    )


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("version_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("trained_as_of", sa.Date, nullable=False),
        sa.Column("window_start", sa.Date, nullable=False),
        sa.Column("window_end", sa.Date, nullable=False),
        sa.Column("features", sa.Text, nullable=False),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("bundle", sa.Text, nullable=False),
        sa.Column("bundle_sha256", sa.String(64), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("version_id", name="pk_model_versions"),
        sa.UniqueConstraint("version", name="uq_model_versions_version"),
    )
    op.create_index("ix_model_versions_status_trained", "model_versions", ["status", "trained_as_of"])
    op.create_table(
        "risk_scores",
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("p_late", sa.Float, nullable=False),
        sa.Column("expected_days_late", sa.Float, nullable=False),
        sa.Column("risk_band", sa.String(16), nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("scorer", sa.String(60), nullable=False),
        sa.Column("open_invoices", sa.Integer, nullable=False),
        sa.Column("predicted_payment_date", sa.Date),
        _created_at(),
        sa.PrimaryKeyConstraint("business_date", "customer_id", name="pk_risk_scores"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"], name="fk_risk_scores_customer_id_customers"
        ),
    )
    op.create_table(
        "invoice_predictions",
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("invoice_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("p_late", sa.Float, nullable=False),
        sa.Column("expected_days_late", sa.Float, nullable=False),
        sa.Column("predicted_payment_date", sa.Date),
        sa.Column("scorer", sa.String(60), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("business_date", "invoice_id", name="pk_invoice_predictions"),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.invoice_id"], name="fk_invoice_predictions_invoice_id_invoices"
        ),
    )
    op.create_table(
        "customer_segments",
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("segment", sa.String(160), nullable=False),
        sa.Column("risk_band", sa.String(16), nullable=False),
        sa.Column("aging_bucket", sa.String(16), nullable=False),
        sa.Column("value_tier", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("p_late", sa.Float, nullable=False),
        sa.Column("open_invoices", sa.Integer, nullable=False),
        sa.Column("open_balance_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("oldest_due_date", sa.Date, nullable=False),
        sa.Column("max_days_overdue", sa.Integer, nullable=False),
        sa.Column("policy_version", sa.String(40), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("business_date", "customer_id", name="pk_customer_segments"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"], name="fk_customer_segments_customer_id_customers"
        ),
    )
    op.create_index("ix_customer_segments_segment", "customer_segments", ["business_date", "segment"])


def downgrade() -> None:
    for table in ("customer_segments", "invoice_predictions", "risk_scores", "model_versions"):
        op.drop_table(table)
