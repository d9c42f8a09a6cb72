"""Apply validated rows to the ledger: the checks that need the ledger, then only the real changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

import polars as pl
from sqlalchemy import Connection

from reminder_pipeline.core.canonical import CUSTOMER_SCHEMA, HISTORY_PAYMENT_METHOD, Entity
from reminder_pipeline.core.changes import (
    CHANGE,
    KNOWN_ON,
    WRITE,
    Change,
    Merge,
    classify_changes,
    count_changes,
)
from reminder_pipeline.core.history import SETTLEMENT_SUFFIX, export_date, reported_payments
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
from reminder_pipeline.ledger import ingest, receivables

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
    overpaid: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=receivables.OVERPAID_SCHEMA))
    """The batch's invoices that are now paid beyond their amount (``receivables.overpaid_invoices``)."""


def known_on_date(business_date: date | None) -> date:
    """The business date rows were known at; an ingest without one knows them today."""
    return business_date or datetime.now(UTC).date()


def recorded_at(business_date: date | None) -> datetime:
    """When an opt-out counts as recorded: the start of its business day (UTC), else now."""
    if business_date is None:
        return datetime.now(UTC)
    return datetime.combine(business_date, time(), tzinfo=UTC)


def _merge_into(
    connection: Connection,
    entity: Entity,
    incoming: pl.DataFrame,
    merge: dict[str, Merge],
    source: str,
    existing: pl.DataFrame,
) -> pl.DataFrame:
    """Write only the rows that insert or change something; returns ``incoming`` classified.

    ``incoming`` and ``existing`` carry ``known_on``: values known earlier than the ledger's never
    overwrite it. The values written are the ones classified, so the report and the ledger agree.
    """
    classified = classify_changes(incoming, existing, ingest.KEYS[entity], merge, known_on=True)
    written = classified.filter(pl.col(WRITE)).drop(CHANGE, WRITE)
    ingest.write_rows(connection, entity, written, source=source, replace=[*merge, KNOWN_ON])
    return classified


def apply_customers(
    connection: Connection, accepted: pl.DataFrame, source: str, business_date: date | None
) -> tuple[pl.DataFrame, Applied]:
    """Merge customers; an opt-out or a withdrawn SMS consent is recorded once, dated by the business day."""
    existing = ingest.stored(
        connection, Entity.CUSTOMERS, accepted["customer_id"], ["customer_id", *CUSTOMER_MERGE, KNOWN_ON]
    )
    on = known_on_date(business_date)
    at = pl.lit(recorded_at(business_date), dtype=pl.Datetime("us", "UTC"))
    stored = accepted.select("customer_id").join(
        existing.select("customer_id", pl.col("sms_consent").alias("_had_consent"), pl.col(KNOWN_ON).alias("_on")),
        on="customer_id",
        how="left",
        maintain_order="left",
    )
    # Consent true in the ledger, false in a feed at least as recent: a withdrawal, sticky like an opt-out.
    withdrawn = (
        ~pl.col("sms_consent") & stored["_had_consent"] & (stored["_on"].is_null() | (stored["_on"] <= on))
    ).fill_null(False)
    incoming = accepted.select(
        "customer_id",
        *CUSTOMER_FIELDS,
        pl.when(pl.col("email_opt_out")).then(at).alias("email_opt_out_at"),
        pl.when(pl.col("sms_opt_out") | withdrawn).then(at).alias("sms_opt_out_at"),
        pl.lit(on).alias(KNOWN_ON),
    )
    classified = _merge_into(connection, Entity.CUSTOMERS, incoming, CUSTOMER_MERGE, source, existing)
    return accepted, Applied(empty_quarantine(), count_changes(classified))


def _dispute_flags(invoices: pl.DataFrame, business_date: date | None) -> pl.DataFrame:
    """Open a dispute for rows flagged disputed; close an open one for rows flagged not disputed."""
    flagged_on = known_on_date(business_date)
    return invoices.filter(pl.col("disputed").is_not_null()).select(
        (pl.col("invoice_id") + DISPUTE_FLAG_SUFFIX).alias("dispute_id"),
        "invoice_id",
        pl.col("disputed").alias("_disputed"),
        pl.lit(flagged_on, dtype=pl.Date).alias("_flagged_on"),
        pl.when(pl.col("disputed"))
        .then(pl.coalesce(pl.col("dispute_date"), pl.lit(business_date, dtype=pl.Date)))
        .alias("opened_on"),
        pl.when(~pl.col("disputed")).then(pl.lit(flagged_on, dtype=pl.Date)).alias("resolved_on"),
    )


def _apply_dispute_flags(connection: Connection, flags: pl.DataFrame, source: str) -> tuple[pl.Series, dict[str, int]]:
    """Flags change a dispute only forward in time: an older day's flag neither closes nor reopens it."""
    existing = ingest.stored_disputes(connection, flags["dispute_id"])
    merged = flags.join(
        existing.with_columns(pl.lit(True).alias("_exists")),
        on="dispute_id",
        how="left",
        suffix="__existing",
        maintain_order="left",
    )
    exists = pl.col("_exists").fill_null(False)
    is_open = exists & pl.col("resolved_on__existing").is_null()
    reopens = exists & ~is_open & (pl.col("_flagged_on") > pl.col("resolved_on__existing")).fill_null(False)
    opening = pl.col("_disputed") & (~exists | reopens)
    closing = (
        ~pl.col("_disputed")
        & is_open
        & (pl.col("opened_on__existing").is_null() | (pl.col("resolved_on") >= pl.col("opened_on__existing")))
    )
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
    ingest.write_disputes(connection, pl.concat([to_open, to_close]))
    touched = merged.filter(pl.col("_opening") | pl.col("_closing"))["invoice_id"]
    return touched, {
        "disputes_opened": to_open.height,
        "disputes_resolved": to_close.height,
    }


def _settlement_conflicts(rows: pl.DataFrame, settlements: pl.DataFrame, existing: pl.DataFrame) -> ValidationResult:
    """Quarantine invoice rows whose reported settlement id is taken by another kind of payment.

    The ledger row under ``<invoice_id>:settled`` must be this invoice's reported settlement;
    anything else there (a recorded payment, another invoice's money) is never overwritten.
    """
    taken = settlements.join(
        existing.select("payment_id", pl.col("invoice_id").alias("_ledger_invoice"), pl.col("method").alias("_method")),
        on="payment_id",
        how="inner",
    ).filter(
        pl.col("_ledger_invoice").ne_missing(pl.col("invoice_id"))
        | pl.col("_method").ne_missing(HISTORY_PAYMENT_METHOD)
    )
    return split_on_problems(
        rows,
        [
            check(
                pl.col("invoice_id").is_in(taken["invoice_id"].implode()),
                Reason.CONFLICTS_WITH_LEDGER,
                pl.format(
                    "payment {} is in the ledger but is not this invoice's reported settlement",
                    pl.col("invoice_id") + SETTLEMENT_SUFFIX,
                ),
            )
        ],
    )


def apply_invoices(
    connection: Connection,
    accepted: pl.DataFrame,
    source: str,
    business_date: date | None,
) -> tuple[pl.DataFrame, Applied]:
    """Returns the rows that stayed accepted and what applying them did."""
    on = pl.lit(known_on_date(business_date), dtype=pl.Date).alias(KNOWN_ON)
    known = ingest.stored(connection, Entity.CUSTOMERS, accepted["customer_id"], ["customer_id"])
    result = require_known(
        accepted,
        "customer_id",
        known["customer_id"],
        Reason.UNKNOWN_CUSTOMER,
        "customer",
    )
    existing = ingest.stored(
        connection,
        Entity.INVOICES,
        result.accepted["invoice_id"],
        ["invoice_id", *INVOICE_IMMUTABLE, "attributes", KNOWN_ON],
    )
    result = result.then(conflicts_with_existing(result.accepted, existing, "invoice_id", INVOICE_IMMUTABLE))

    settlements = reported_payments(result.accepted, export_date(result.accepted, business_date)).with_columns(on)
    settled_merge = {"amount_minor": Merge.REPLACE, "paid_date": Merge.REPLACE}
    existing_settled = ingest.stored(
        connection,
        Entity.PAYMENTS,
        settlements["payment_id"],
        ["payment_id", "invoice_id", "method", *settled_merge, KNOWN_ON],
    )
    result = result.then(_settlement_conflicts(result.accepted, settlements, existing_settled))
    rows = result.accepted
    settlements = settlements.filter(pl.col("invoice_id").is_in(rows["invoice_id"].implode()))

    merge = {"attributes": Merge.KEEP_EXISTING_IF_NEW_NULL}
    invoice_rows = rows.select("invoice_id", *INVOICE_IMMUTABLE, "attributes", on)
    classified = _merge_into(connection, Entity.INVOICES, invoice_rows, merge, source, existing)
    settled = _merge_into(connection, Entity.PAYMENTS, settlements, settled_merge, source, existing_settled)
    settled_touched = settled.filter(pl.col(CHANGE) != Change.NONE.value)["invoice_id"]

    disputes_touched, dispute_effects = _apply_dispute_flags(connection, _dispute_flags(rows, business_date), source)

    touched = pl.concat([settled_touched, disputes_touched]).implode()
    final = classified.with_columns(
        pl.when((pl.col(CHANGE) == Change.NONE.value) & pl.col("invoice_id").is_in(touched))
        .then(pl.lit(Change.UPDATE.value))
        .otherwise(pl.col(CHANGE))
        .alias(CHANGE)
    )
    overpaid = receivables.overpaid_invoices(connection, settlements["invoice_id"])  # only a settlement can overpay
    effects = {
        "settlements_recorded": int((settled[CHANGE] != Change.NONE.value).sum()),
        **dispute_effects,
        "overpaid_invoices": overpaid.height,
    }
    return rows, Applied(result.quarantined, count_changes(final), effects, overpaid)


def apply_payments(
    connection: Connection, accepted: pl.DataFrame, source: str, business_date: date | None
) -> tuple[pl.DataFrame, Applied]:
    invoices = ingest.stored(
        connection, Entity.INVOICES, accepted["invoice_id"], ["invoice_id", "customer_id", "currency"]
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
    merge = {
        "method": Merge.KEEP_EXISTING_IF_NEW_NULL,
        "attributes": Merge.KEEP_EXISTING_IF_NEW_NULL,
    }
    existing = ingest.stored(
        connection, Entity.PAYMENTS, result.accepted["payment_id"], ["payment_id", *PAYMENT_IMMUTABLE, *merge, KNOWN_ON]
    )
    result = result.then(conflicts_with_existing(result.accepted, existing, "payment_id", PAYMENT_IMMUTABLE))
    rows = result.accepted
    incoming = rows.select(
        "payment_id",
        "invoice_id",
        "customer_id",
        "amount_minor",
        "currency",
        "paid_date",
        "method",
        "attributes",
        pl.lit(known_on_date(business_date), dtype=pl.Date).alias(KNOWN_ON),
    )
    classified = _merge_into(connection, Entity.PAYMENTS, incoming, merge, source, existing)
    overpaid = receivables.overpaid_invoices(connection, rows["invoice_id"])
    effects = {"overpaid_invoices": overpaid.height}
    return rows, Applied(result.quarantined, count_changes(classified), effects, overpaid)
