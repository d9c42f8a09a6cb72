"""Ledger tables of billing (migration 0001): customers, invoices, payments, disputes, promises to
pay, the quarantine and the record of ingest batches.

Money is stored as integer minor units of the row's currency (JPY 0 digits, EUR 2, KWD 3):
exact on SQLite and PostgreSQL alike. ``known_on`` on customers, invoices and payments is the
business date the row's values were known at: an older business day never overwrites them.
A reply's sender is found by the customers' phone and lower-case email indexes (migration 0009).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

from reminder_pipeline.ledger.schema.base import metadata


def _timestamps() -> list[Column]:
    return [
        Column(
            "created_at",
            DateTime(timezone=True),
            nullable=False,
            server_default=func.current_timestamp(),
        ),
        Column(
            "updated_at",
            DateTime(timezone=True),
            nullable=False,
            server_default=func.current_timestamp(),
        ),
    ]


customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("name", String(200)),
    Column("email", String(320)),
    Column("phone", String(20)),
    Column("country", String(2)),
    Column("region", String(64)),
    Column("time_zone", String(64)),
    Column("locale", String(35)),
    Column("preferred_channel", String(8)),
    Column("email_opt_out_at", DateTime(timezone=True)),
    Column("sms_opt_out_at", DateTime(timezone=True)),
    Column("sms_consent", Boolean),
    Column("email_refused", String(320)),
    Column("email_refused_at", DateTime(timezone=True)),
    Column("phone_refused", String(20)),
    Column("phone_refused_at", DateTime(timezone=True)),
    Column("billing_cycle_day", SmallInteger),
    Column("paperless_since", Date),
    Column("payment_method", String(40)),
    Column("attributes", Text),
    Column("known_on", Date),
    Column("source", String(500), nullable=False),
    *_timestamps(),
)
Index("ix_customers_phone", customers.c.phone)

email_folded = func.lower(customers.c.email)
"""A customer's email as a reply's sender is matched against it: the expression ``ix_customers_email_lower``
indexes (a query that compares another expression cannot use it)."""
Index("ix_customers_email_lower", email_folded)

invoices = Table(
    "invoices",
    metadata,
    Column("invoice_id", String(64), primary_key=True),
    Column(
        "customer_id",
        String(64),
        ForeignKey("customers.customer_id"),
        nullable=False,
        index=True,
    ),
    Column("issue_date", Date, nullable=False, index=True),
    Column("due_date", Date, nullable=False, index=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("attributes", Text),
    Column("known_on", Date),
    Column("source", String(500), nullable=False),
    *_timestamps(),
)

payments = Table(
    "payments",
    metadata,
    Column("payment_id", String(100), primary_key=True),
    Column(
        "invoice_id",
        String(64),
        ForeignKey("invoices.invoice_id"),
        nullable=False,
        index=True,
    ),
    Column(
        "customer_id",
        String(64),
        ForeignKey("customers.customer_id"),
        nullable=False,
        index=True,
    ),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("paid_date", Date, nullable=False, index=True),
    Column("method", String(40)),
    Column("attributes", Text),
    Column("known_on", Date),
    Column("source", String(500), nullable=False),
    *_timestamps(),
)

disputes = Table(
    "disputes",
    metadata,
    Column("dispute_id", String(100), primary_key=True),
    Column(
        "invoice_id",
        String(64),
        ForeignKey("invoices.invoice_id"),
        nullable=False,
        index=True,
    ),
    Column("opened_on", Date),
    Column("resolved_on", Date),
    Column("reason", Text),
    Column("source", String(500), nullable=False),
    *_timestamps(),
)

promises_to_pay = Table(
    "promises_to_pay",
    metadata,
    Column("promise_id", String(100), primary_key=True),
    Column(
        "customer_id",
        String(64),
        ForeignKey("customers.customer_id"),
        nullable=False,
        index=True,
    ),
    Column("invoice_id", String(64), ForeignKey("invoices.invoice_id")),
    Column("promised_date", Date, nullable=False),
    Column("amount_minor", BigInteger),
    Column("currency", String(3)),
    Column("made_on", Date, nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("source", String(500), nullable=False),
    *_timestamps(),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("quarantine_id", Integer, primary_key=True, autoincrement=True),
    Column("entity", String(16), nullable=False),
    Column("source", String(500), nullable=False),
    Column("source_key", String(64), nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("reason", String(40), nullable=False, index=True),
    Column("detail", Text, nullable=False),
    Column("raw", Text),
    Column("business_date", Date),
    Column(
        "quarantined_at",
        DateTime(timezone=True),
        nullable=False,
        server_default=func.current_timestamp(),
    ),
    Column("resolved_at", DateTime(timezone=True)),
    UniqueConstraint("entity", "source_key", "source_row", name="uq_quarantine_row"),
)

ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("batch_id", Integer, primary_key=True, autoincrement=True),
    Column("entity", String(16), nullable=False),
    Column("source", String(500), nullable=False),
    Column("source_key", String(64), nullable=False),
    Column("business_date", Date),
    Column("rows_in", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("quarantined", Integer, nullable=False),
    Column("inserted", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
)

Index(
    "ix_ingest_batches_entity_business_date",
    ingest_batches.c.entity,
    ingest_batches.c.business_date,
)
