"""Checks on the ledger after ingestion. Blocking ones stop risk scoring and reminders on bad data."""

from typing import Any

import dagster as dg
import polars as pl

from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.common.metadata import table, with_money
from reminder_pipeline.defs.common.retries import retry_when_transient
from reminder_pipeline.defs.ingestion.assets import customers, payments
from reminder_pipeline.ledger import receivables

MAX_UNREACHABLE_SHARE = 0.2


@dg.asset_check(
    asset=payments,
    blocking=True,
    description="Every payment agrees with its invoice: same customer, same currency, and a reported "
    "settlement only under its invoice's settlement id. Blocks scores and reminders, which would ask for the "
    "wrong balance. What to do: the metadata counts each kind of disagreement; correct the payments feed (or "
    "the invoice) in the billing system and re-run the day.",
)
@retry_when_transient
def payments_agree_with_their_invoices(ledger: LedgerResource) -> dg.AssetCheckResult:
    with ledger.open().begin() as connection:
        found = receivables.payment_inconsistencies(connection)
    return dg.AssetCheckResult(passed=not any(found.values()), metadata=found)


@dg.asset_check(
    asset=payments,
    description="Payments do not exceed their invoice; an overpayment leaves the customer a credit (a "
    "warning, never blocking: that customer is not chased in the credit's currency). What to do: refund the "
    "excess or apply it to another invoice in the billing system; `excess_by_currency` says how much.",
)
@retry_when_transient
def no_overpaid_invoices(ledger: LedgerResource) -> dg.AssetCheckResult:
    with ledger.open().begin() as connection:
        overpaid = receivables.overpaid_invoices(connection)
    metadata: dict[str, Any] = {"overpaid_invoices": overpaid.height}
    if not overpaid.is_empty():
        excess = (
            overpaid.group_by("currency")
            .agg((pl.col("paid_minor") - pl.col("amount_minor")).sum().alias("balance_minor"))
            .sort("currency")
        )
        metadata["excess_by_currency"] = table(with_money(excess, label="excess"))
    return dg.AssetCheckResult(
        passed=overpaid.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


@dg.asset_check(
    asset=customers,
    description=f"At most {MAX_UNREACHABLE_SHARE:.0%} of customers have no usable channel "
    "(no valid contact, or opted out / no SMS consent): those get no reminder, only a collector's call. What "
    "to do: a sudden rise means the customer export lost its email or phone columns (check the mapping); "
    "otherwise collect addresses and consent from the customers without one.",
)
@retry_when_transient
def customers_reachable(ledger: LedgerResource) -> dg.AssetCheckResult:
    with ledger.open().begin() as connection:
        reach = receivables.customer_reachability(connection)
    share = reach["unreachable"] / reach["customers"] if reach["customers"] else 0.0
    return dg.AssetCheckResult(
        passed=share <= MAX_UNREACHABLE_SHARE,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={**reach, "unreachable_share": round(share, 4)},
    )
