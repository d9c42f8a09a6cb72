"""Ledger tables of the risk domain (migration 0002), on the ledger's one MetaData (``base``)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

from reminder_pipeline.ledger.schema.base import metadata


def _created_at() -> Column:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.current_timestamp())


model_versions = Table(
    "model_versions",
    metadata,
    Column("version_id", Integer, primary_key=True, autoincrement=True),
    Column("version", String(40), nullable=False),
    Column("trained_as_of", Date, nullable=False),
    Column("window_start", Date, nullable=False),
    Column("window_end", Date, nullable=False),
    Column("features", Text, nullable=False),
    Column("metrics", Text, nullable=False),
    Column("reference", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("bundle", Text, nullable=False),
    Column("bundle_sha256", String(64), nullable=False),
    _created_at(),
    UniqueConstraint("version", name="uq_model_versions_version"),
)
Index("ix_model_versions_status_trained", model_versions.c.status, model_versions.c.trained_as_of)

risk_scores = Table(
    "risk_scores",
    metadata,
    Column("business_date", Date, primary_key=True),
    Column("customer_id", String(64), ForeignKey("customers.customer_id"), primary_key=True),
    Column("p_late", Float, nullable=False),
    Column("expected_days_late", Float, nullable=False),
    Column("risk_band", String(16), nullable=False),
    Column("reasons", Text, nullable=False),
    Column("scorer", String(60), nullable=False),
    Column("open_invoices", Integer, nullable=False),
    Column("predicted_payment_date", Date),
    _created_at(),
)

invoice_predictions = Table(
    "invoice_predictions",
    metadata,
    Column("business_date", Date, primary_key=True),
    Column("invoice_id", String(64), ForeignKey("invoices.invoice_id"), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("p_late", Float, nullable=False),
    Column("expected_days_late", Float, nullable=False),
    Column("predicted_payment_date", Date),
    Column("scorer", String(60), nullable=False),
    _created_at(),
)

customer_segments = Table(
    "customer_segments",
    metadata,
    Column("business_date", Date, primary_key=True),
    Column("customer_id", String(64), ForeignKey("customers.customer_id"), primary_key=True),
    Column("segment", String(160), nullable=False),
    Column("risk_band", String(16), nullable=False),
    Column("aging_bucket", String(16), nullable=False),
    Column("value_tier", String(32), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("p_late", Float, nullable=False),
    Column("open_invoices", Integer, nullable=False),
    Column("open_balance_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("oldest_due_date", Date, nullable=False),
    Column("max_days_overdue", Integer, nullable=False),
    Column("policy_version", String(40), nullable=False),
    _created_at(),
)
Index("ix_customer_segments_segment", customer_segments.c.business_date, customer_segments.c.segment)
