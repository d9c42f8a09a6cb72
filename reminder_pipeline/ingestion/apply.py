"""Apply validated rows to the ledger: the checks that need the ledger, then only the real changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import Connection, Table

from reminder_pipeline.core.canonical import CUSTOMER_SCHEMA, HISTORY_PAYMENT_METHOD
from reminder_pipeline.core.changes import (
    CHANGE,
    Change,
    Merge,
    classify_changes,
    count_changes,
)
from reminder_pipeline.core.validation.reasons import Reason
from reminder_pipeline.core.validation.references import (
    conflicts_with_existing,
    require_known,
)
from reminder_pipeline.core.validation.result import (
    ValidationResult,
    check,
    empty_quarantine,
    split_on_problems,
)
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.bulk import fetch_by_keys, upsert

SETTLEMENT_SUFFIX = ":settled"
DISPUTE_FLAG_SUFFIX = ":flag"
INVOICE_IMMUTABLE = [
    "customer_id",
    "issue_date",
    "due_date",
    "amount_minor",
    "currency",
]
PAYMENT_IMMUTABLE = ["invoice_id", "amount_minor", "currency", "paid_date"]

OPT_OUT_FLAGS = ("email_opt_out", "sms_opt_out")
CUSTOMER_FIELDS = (*(c for c in CUSTOMER_SCHEMA.optional if c not in OPT_OUT_FLAGS), "attributes")
# A feed's empty field means "not given", never "erase"; an opt-out, once recorded, is never undone by a feed.
CUSTOMER_MERGE: dict[str, Merge] = {
    **dict.fromkeys(CUSTOMER_FIELDS, Merge.KEEP_EXISTING_IF_NEW_NULL),
    "email_opt_out_at": Merge.KEEP_FIRST,
    "sms_opt_out_at": Merge.KEEP_FIRST,
}


@dataclass
class Applied:
    """Outcome of applying one batch: extra quarantine, change counts per accepted row, side effects."""

    quarantined: pl.DataFrame
    changes: dict[Change, int]
    effects: dict[str, int] = field(default_factory=dict)


def _merge_into(
    connection: Connection,
    table: Table,
    incoming: pl.DataFrame,
    key: str,
    merge: dict[str, Merge],
    source: str,
    existing: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Write only the rows that insert or change something; returns ``incoming`` classified."""
    if existing is None:
        existing = fetch_by_keys(connection, table, key, incoming[key], [key, *merge])
    classified = classify_changes(incoming, existing, key, merge)
    changed = classified.filter(pl.col(CHANGE) != Change.NONE.value).drop(CHANGE)
    upsert(connection, table, changed.with_columns(pl.lit(source).alias("source")), key=[key], merge=merge)
    return classified


def apply_customers(connection: Connection, accepted: pl.DataFrame, source: str) -> tuple[pl.DataFrame, Applied]:
    now = pl.lit(datetime.now(UTC), dtype=pl.Datetime("us", "UTC"))
    incoming = accepted.select(
        "customer_id",
        *CUSTOMER_FIELDS,
        pl.when(pl.col("email_opt_out")).then(now).alias("email_opt_out_at"),
        pl.when(pl.col("sms_opt_out")).then(now).alias("sms_opt_out_at"),
    )
    classified = _merge_into(connection, schema.customers, incoming, "customer_id", CUSTOMER_MERGE, source)
    return accepted, Applied(empty_quarantine(), count_changes(classified))


def _export_date(invoices: pl.DataFrame, business_date: date | None) -> date | None:
    """When the rows were known: the business date, else the latest date an invoice-history export shows."""
    if business_date is not None or invoices.is_empty():
        return business_date
    latest = invoices.select(pl.max_horizontal(pl.col("issue_date", "paid_date", "dispute_date").max())).item()
    return latest if isinstance(latest, date) else None


def _settlements(invoices: pl.DataFrame, as_of: date | None) -> pl.DataFrame:
    """What an invoice history says was paid, as one reported payment per invoice.

    A settled invoice reports its paid date; a partly paid open one only that the money had
    arrived by the export, so it is dated then. Reported payments carry ``HISTORY_PAYMENT_METHOD``:
    balances take the larger of reported and individually recorded payments, never their sum.
    """
    return (
        invoices.filter(pl.col("paid_amount_minor") > 0)
        .select(
            (pl.col("invoice_id") + SETTLEMENT_SUFFIX).alias("payment_id"),
            "invoice_id",
            "customer_id",
            pl.col("paid_amount_minor").alias("amount_minor"),
            "currency",
            pl.coalesce(pl.col("paid_date"), pl.lit(as_of, dtype=pl.Date)).alias("paid_date"),
            pl.lit(HISTORY_PAYMENT_METHOD).alias("method"),
        )
        .filter(pl.col("paid_date").is_not_null())
    )


def _dispute_flags(invoices: pl.DataFrame, business_date: date | None) -> pl.DataFrame:
    """Open a dispute for rows flagged disputed; close an open one for rows flagged not disputed."""
    resolved = business_date or datetime.now(UTC).date()
    return invoices.filter(pl.col("disputed").is_not_null()).select(
        (pl.col("invoice_id") + DISPUTE_FLAG_SUFFIX).alias("dispute_id"),
        "invoice_id",
        pl.col("disputed").alias("_disputed"),
        pl.when(pl.col("disputed"))
        .then(pl.coalesce(pl.col("dispute_date"), pl.lit(business_date, dtype=pl.Date)))
        .alias("opened_on"),
        pl.when(~pl.col("disputed")).then(pl.lit(resolved, dtype=pl.Date)).alias("resolved_on"),
    )


def _apply_dispute_flags(connection: Connection, flags: pl.DataFrame, source: str) -> tuple[pl.Series, dict[str, int]]:
    existing = fetch_by_keys(
        connection,
        schema.disputes,
        "dispute_id",
        flags["dispute_id"],
        ["dispute_id", "opened_on", "resolved_on"],
    )
    merged = flags.join(
        existing.with_columns(pl.lit(True).alias("_exists")),
        on="dispute_id",
        how="left",
        suffix="__existing",
        maintain_order="left",
    )
    exists = pl.col("_exists").fill_null(False)
    is_open = exists & pl.col("resolved_on__existing").is_null()
    opening = pl.col("_disputed") & (~exists | ~is_open)
    closing = ~pl.col("_disputed") & is_open
    merged = merged.with_columns(opening.alias("_opening"), closing.alias("_closing"))
    to_open = merged.filter("_opening").select(
        "dispute_id",
        "invoice_id",
        pl.coalesce("opened_on__existing", "opened_on").alias("opened_on"),
        pl.lit(None, dtype=pl.Date).alias("resolved_on"),
        pl.lit(source).alias("source"),
    )
    to_close = merged.filter("_closing").select(
        "dispute_id",
        "invoice_id",
        pl.col("opened_on__existing").alias("opened_on"),
        "resolved_on",
        pl.lit(source).alias("source"),
    )
    replace = {"opened_on": Merge.REPLACE, "resolved_on": Merge.REPLACE}
    upsert(
        connection,
        schema.disputes,
        pl.concat([to_open, to_close]),
        key=["dispute_id"],
        merge=replace,
    )
    touched = merged.filter(pl.col("_opening") | pl.col("_closing"))["invoice_id"]
    return touched, {
        "disputes_opened": to_open.height,
        "disputes_resolved": to_close.height,
    }


def apply_invoices(
    connection: Connection,
    accepted: pl.DataFrame,
    source: str,
    business_date: date | None,
) -> tuple[pl.DataFrame, Applied]:
    """Returns the rows that stayed accepted and what applying them did."""
    known = fetch_by_keys(
        connection,
        schema.customers,
        "customer_id",
        accepted["customer_id"],
        ["customer_id"],
    )
    result = require_known(
        accepted,
        "customer_id",
        known["customer_id"],
        Reason.UNKNOWN_CUSTOMER,
        "customer",
    )
    existing = fetch_by_keys(
        connection,
        schema.invoices,
        "invoice_id",
        result.accepted["invoice_id"],
        ["invoice_id", *INVOICE_IMMUTABLE, "attributes"],
    )
    result = result.then(conflicts_with_existing(result.accepted, existing, "invoice_id", INVOICE_IMMUTABLE))
    rows = result.accepted
    merge = {"attributes": Merge.KEEP_EXISTING_IF_NEW_NULL}
    invoice_rows = rows.select("invoice_id", *INVOICE_IMMUTABLE, "attributes")
    classified = _merge_into(connection, schema.invoices, invoice_rows, "invoice_id", merge, source, existing)

    settlements = _settlements(rows, _export_date(rows, business_date))
    settled_merge = {"amount_minor": Merge.REPLACE, "paid_date": Merge.REPLACE}
    settled = _merge_into(connection, schema.payments, settlements, "payment_id", settled_merge, source)
    settled_touched = settled.filter(pl.col(CHANGE) != Change.NONE.value)["invoice_id"]

    disputes_touched, dispute_effects = _apply_dispute_flags(connection, _dispute_flags(rows, business_date), source)

    touched = pl.concat([settled_touched, disputes_touched]).implode()
    final = classified.with_columns(
        pl.when((pl.col(CHANGE) == Change.NONE.value) & pl.col("invoice_id").is_in(touched))
        .then(pl.lit(Change.UPDATE.value))
        .otherwise(pl.col(CHANGE))
        .alias(CHANGE)
    )
    effects = {
        "settlements_recorded": int((settled[CHANGE] != Change.NONE.value).sum()),
        **dispute_effects,
    }
    return rows, Applied(result.quarantined, count_changes(final), effects)


def apply_payments(connection: Connection, accepted: pl.DataFrame, source: str) -> tuple[pl.DataFrame, Applied]:
    invoices = fetch_by_keys(
        connection,
        schema.invoices,
        "invoice_id",
        accepted["invoice_id"],
        ["invoice_id", "customer_id", "currency"],
    )
    result = require_known(
        accepted,
        "invoice_id",
        invoices["invoice_id"],
        Reason.UNKNOWN_INVOICE,
        "invoice",
    )
    joined = result.accepted.join(
        invoices.rename({"currency": "invoice_currency"}),
        on="invoice_id",
        how="left",
        maintain_order="left",
    )
    matched = split_on_problems(
        joined,
        [
            check(
                pl.col("currency") != pl.col("invoice_currency"),
                Reason.CURRENCY_MISMATCH,
                pl.format(
                    "payment in {} for an invoice in {}",
                    pl.col("currency"),
                    pl.col("invoice_currency"),
                ),
            )
        ],
    )
    result = result.then(ValidationResult(matched.accepted.drop("invoice_currency"), matched.quarantined))
    existing = fetch_by_keys(
        connection,
        schema.payments,
        "payment_id",
        result.accepted["payment_id"],
        ["payment_id", *PAYMENT_IMMUTABLE, "method", "attributes"],
    )
    result = result.then(conflicts_with_existing(result.accepted, existing, "payment_id", PAYMENT_IMMUTABLE))
    rows = result.accepted
    merge = {
        "method": Merge.KEEP_EXISTING_IF_NEW_NULL,
        "attributes": Merge.KEEP_EXISTING_IF_NEW_NULL,
    }
    incoming = rows.select(
        "payment_id",
        "invoice_id",
        "customer_id",
        "amount_minor",
        "currency",
        "paid_date",
        "method",
        "attributes",
    )
    classified = _merge_into(connection, schema.payments, incoming, "payment_id", merge, source, existing)
    return rows, Applied(result.quarantined, count_changes(classified))
