"""What the Dagster UI's catalog shows of every asset: who owns it, the columns of what it writes, where it
lives, and a link to the collections dashboard.

The columns come from the ledger's own SQLAlchemy tables (and the feature and statement frames' schemas),
so they cannot drift from what is stored. Applied to the whole code location in ``definitions.py``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping

import dagster as dg
import polars as pl
from sqlalchemy import Column, Table, types

from reminder_pipeline.core.features.catalogue import FEATURES
from reminder_pipeline.core.statements.lines import LINE_SCHEMA
from reminder_pipeline.ledger import schema

DASHBOARD_URL_ENV = "REMINDERS_DASHBOARD_URL"
DEFAULT_DASHBOARD_URL = "http://127.0.0.1:8000/"
OWNERS = {
    "ingestion": ["team:billing-data"],
    "risk": ["team:credit-risk"],
    "reminders": ["team:collections"],
    "delivery": ["team:collections"],
    "statements": ["team:accounts-receivable"],
}
"""Owners per asset group (Dagster teams, no person's address)."""
PERSONAL = "personal data: masked in logs and metadata"
NOTES = {
    "customer_id": "the billing system's customer id",
    "invoice_id": "the billing system's invoice id",
    "business_date": "the business day (partition) the row belongs to",
    "known_on": "the business day its values were known on",
    "amount_minor": "amount in integer minor units of its currency (cents; JPY none, KWD three)",
    "balance_minor": "what is still owed, in integer minor units of its currency",
    "open_balance_minor": "open balance in integer minor units of its currency",
    "currency": "ISO 4217 code",
    "name": PERSONAL,
    "email": PERSONAL,
    "phone": PERSONAL + " (E.164)",
    "recipient": PERSONAL,
    "body_text": PERSONAL + " (the words sent greet the customer by name)",
    "body_html": PERSONAL,
    "subject": PERSONAL,
    "p_late": "probability of paying after the due date (0-1)",
    "risk_band": "risk band from the policy's bounds on p_late",
    "decision": "send, handoff (to a collector) or skip",
    "reason": "why the customer was skipped (see the README's list)",
    "outcome": "accepted, retry, unknown (reconciled, never resent) or rejected",
    "status": "where the row stands",
    "attributes": "extra columns of the source file, as JSON",
    "source": "the file or query the row came from",
}
FRAME_KEYS = {
    "invoice_id": pl.String(),
    "customer_id": pl.String(),
    "as_of": pl.Date(),
    "issue_date": pl.Date(),
    "due_date": pl.Date(),
    "amount_minor": pl.Int64(),
    "currency": pl.String(),
    "balance_minor": pl.Int64(),
}
"""The columns of a feature frame before its features."""
TABLES: dict[str, Table] = {
    "customers": schema.customers,
    "invoices": schema.invoices,
    "payments": schema.payments,
    "risk_model": schema.model_versions,
    "risk_scores": schema.risk_scores,
    "customer_segments": schema.customer_segments,
    "reminder_plan": schema.reminder_decisions,
    "rendered_messages": schema.reminder_messages,
    "email_deliveries": schema.delivery_attempts,
    "sms_deliveries": schema.delivery_attempts,
    "delivery_status": schema.delivery_events,
    "delivery_status_lookups": schema.delivery_events,
}
"""The ledger table each asset writes (or, for the delivery status, reads and settles)."""
FILES = {
    "customer_features": "parquet: $REMINDERS_HOME/features/customer_features/<date>.parquet",
    "billing_cycle_statements": "parquet: $REMINDERS_HOME/statements/<date>.parquet",
}


def dashboard_url() -> str:
    return os.environ.get(DASHBOARD_URL_ENV) or DEFAULT_DASHBOARD_URL


def _kind(column_type: types.TypeEngine[object]) -> str:
    for kind, sql in (
        ("bool", types.Boolean),
        ("int", types.Integer),
        ("float", types.Float),
        ("datetime", types.DateTime),
        ("date", types.Date),
    ):
        if isinstance(column_type, sql):
            return kind
    return "string"


def _column(column: Column[object]) -> dg.TableColumn:
    return dg.TableColumn(
        column.name,
        _kind(column.type),
        description=NOTES.get(column.name),
        constraints=dg.TableColumnConstraints(nullable=bool(column.nullable), unique=column.primary_key),
    )


def table_schema(table: Table) -> dg.TableSchema:
    return dg.TableSchema(columns=[_column(c) for c in table.columns])


def frame_schema(columns: Mapping[str, pl.DataType], notes: Mapping[str, str] | None = None) -> dg.TableSchema:
    kinds = {pl.Int64: "int", pl.Float64: "float", pl.Boolean: "bool", pl.Date: "date", pl.Datetime: "datetime"}
    described = {**NOTES, **(notes or {})}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, kinds.get(dtype.base_type(), "string"), description=described.get(name))
            for name, dtype in columns.items()
        ]
    )


def features_schema() -> dg.TableSchema:
    features = {f.name: (pl.String() if f.categorical else pl.Float64()) for f in FEATURES}
    return frame_schema({**FRAME_KEYS, **features}, {f.name: f.description for f in FEATURES})


def column_schema(asset: str) -> dg.TableSchema | None:
    if asset in TABLES:
        return table_schema(TABLES[asset])
    if asset == "customer_features":
        return features_schema()
    if asset == "billing_cycle_statements":
        return frame_schema(LINE_SCHEMA)
    return None


def catalogued(spec: dg.AssetSpec) -> dg.AssetSpec:
    """The spec with its group's owners, its column schema, where it is stored and the dashboard's link."""
    name = spec.key.to_user_string()
    metadata: dict[str, object] = {"dashboard": dg.MetadataValue.url(dashboard_url())}
    if (columns := column_schema(name)) is not None:
        metadata["dagster/column_schema"] = columns
    if name in TABLES:
        metadata["dagster/table_name"] = f"ledger.{TABLES[name].name}"
    elif name in FILES:
        metadata["stored_as"] = FILES[name]
    owners = spec.owners or OWNERS.get(spec.group_name or "", [])
    return spec.replace_attributes(owners=owners).merge_attributes(metadata=metadata)


def with_catalog(defs: dg.Definitions) -> dg.Definitions:
    """``defs`` with every asset catalogued. ``Definitions.map_asset_specs`` is marked preview in Dagster 1.13
    (the lock pins the version, and the catalog's tests would catch a change): its warning is not for users."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return defs.map_asset_specs(func=catalogued)
