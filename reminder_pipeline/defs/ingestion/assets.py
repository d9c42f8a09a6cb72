"""The ``customers``, ``invoices`` and ``payments`` assets: the billing data of each business day.

Each asset ingests what the billing source delivered for its partitions into the ledger and
reports counts, quarantine reasons and receivables. Bad rows never fail a run (they are
quarantined with a reason). Two blocking checks run inside each asset:

- ``rows_conserved`` re-reads the ledger: every row of every batch is accepted or quarantined;
- ``quarantine_rate_acceptable``: on every business day of the run at most 5 % of the rows were
  quarantined (or fewer than 10 rows) — more means that day's feed is broken and acting on it
  would be wrong. Judged per day, so one broken day inside a long backfill still blocks.
"""

import os
from dataclasses import dataclass
from datetime import date
from typing import Any

import dagster as dg
import polars as pl

from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.receivables import aging_summary, outstanding_by_currency
from reminder_pipeline.core.validation.reasons import DESCRIPTIONS, Reason
from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.common.metadata import table, with_money
from reminder_pipeline.defs.common.partitions import daily_asset_options, days_in_run
from reminder_pipeline.defs.common.policy import PolicyResource
from reminder_pipeline.defs.common.retries import retry_when_transient
from reminder_pipeline.defs.ingestion.resources import BillingSourceResource
from reminder_pipeline.ingestion.report import IngestReport, RunSummary, summarise
from reminder_pipeline.ingestion.service import ingest_from_source
from reminder_pipeline.ledger import receivables
from reminder_pipeline.ledger.ingest import batch_conservation
from reminder_pipeline.ledger.store import Ledger

CONSERVED = "rows_conserved"
RATE = "quarantine_rate_acceptable"
GROUP = "ingestion"
MAX_QUARANTINE_RATE_ENV = "REMINDERS_MAX_QUARANTINE_RATE"
MIN_QUARANTINED_ENV = "REMINDERS_QUARANTINE_ALERT_MIN_ROWS"


def max_quarantine_rate() -> float:
    return float(os.environ.get(MAX_QUARANTINE_RATE_ENV, "0.05"))


def min_quarantined_rows() -> int:
    """Below this many quarantined rows a rate says nothing (1 bad row of 3 is not a broken feed)."""
    return int(os.environ.get(MIN_QUARANTINED_ENV, "10"))


@dataclass(frozen=True)
class IngestRun:
    entity: Entity
    ledger: Ledger
    days: list[date]
    reports: list[IngestReport]
    summary: RunSummary
    source: str


def conservation_result(ledger: Ledger, entity: Entity, reports: list[IngestReport]) -> dg.AssetCheckResult:
    """Every batch of this run: rows in = accepted + quarantined, and each quarantined row has a record."""
    keys = sorted({r.source_key for r in reports})
    if not keys:
        return dg.AssetCheckResult(check_name=CONSERVED, passed=True, metadata={"batches": 0})
    with ledger.begin() as connection:
        batches = batch_conservation(connection, entity.value, keys)
    broken = batches.filter(
        (pl.col("rows_in") != pl.col("accepted") + pl.col("quarantined")) | (pl.col("records") != pl.col("quarantined"))
    )
    return dg.AssetCheckResult(
        check_name=CONSERVED,
        passed=broken.is_empty() and batches.height == len(keys),
        metadata={
            "batches": batches.height,
            "rows_in": int(batches["rows_in"].sum()),
            "accepted": int(batches["accepted"].sum()),
            "quarantined": int(batches["quarantined"].sum()),
            "batches_not_conserved": broken.height,
        },
    )


WORST_DAYS_SHOWN = 5


def daily_quarantine(reports: list[IngestReport]) -> pl.DataFrame:
    """``business_date, rows_in, quarantined, quarantine_rate`` per business day (null: no date given)."""
    frame = pl.DataFrame(
        {
            "business_date": [r.business_date for r in reports],
            "rows_in": [r.rows_in for r in reports],
            "quarantined": [r.quarantined for r in reports],
        },
        schema={"business_date": pl.Date, "rows_in": pl.Int64, "quarantined": pl.Int64},
    )
    return (
        frame.group_by("business_date", maintain_order=True)
        .agg(pl.col("rows_in").sum(), pl.col("quarantined").sum())
        .with_columns(
            pl.when(pl.col("rows_in") > 0)
            .then(pl.col("quarantined") / pl.col("rows_in"))
            .otherwise(0.0)
            .alias("quarantine_rate")
        )
    )


def quarantine_rate_result(reports: list[IngestReport]) -> dg.AssetCheckResult:
    """Fails when any business day quarantined more than the limit, counting at least the minimum rows."""
    limit, floor = max_quarantine_rate(), min_quarantined_rows()
    days = daily_quarantine(reports)
    broken = days.filter((pl.col("quarantine_rate") > limit) & (pl.col("quarantined") >= floor))
    worst = days.sort(["quarantine_rate", "quarantined"], descending=True).head(WORST_DAYS_SHOWN)
    summary = summarise(reports)
    return dg.AssetCheckResult(
        check_name=RATE,
        passed=broken.is_empty(),
        metadata={
            "rows_in": summary.rows_in,
            "quarantined": summary.quarantined,
            "quarantine_rate": round(summary.quarantine_rate, 4),
            "business_days": days.height,
            "broken_days": broken.height,
            "worst_days": table(
                worst.with_columns(
                    pl.col("business_date").cast(pl.String).fill_null("(none)"),
                    pl.col("quarantine_rate").round(4),
                )
            ),
            "limit": limit,
            "min_rows": floor,
        },
    )


def _reason_table(summary: RunSummary) -> dg.TableMetadataValue:
    frame = pl.DataFrame(
        {
            "reason": list(summary.reasons),
            "rows": list(summary.reasons.values()),
            "meaning": [DESCRIPTIONS[Reason(r)] for r in summary.reasons],
        },
        schema={"reason": pl.String, "rows": pl.Int64, "meaning": pl.String},
    )
    return table(frame)


def ingest_metadata(run: IngestRun) -> dict[str, Any]:
    summary = run.summary
    metadata: dict[str, Any] = {
        "source": run.source,
        "business_days": len(run.days),
        "tables": summary.tables,
        "rows_in": summary.rows_in,
        "accepted": summary.accepted,
        "quarantined": summary.quarantined,
        "quarantine_rate": round(summary.quarantine_rate, 4),
        "inserted": summary.inserted,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "identical_duplicates_folded": summary.folded_duplicates,
        "quarantine_reasons": _reason_table(summary),
        **summary.effects,
    }
    if summary.warnings:
        metadata["warnings"] = dg.MetadataValue.md("\n".join(f"- {w}" for w in summary.warnings))
    return metadata


def run_ingest(
    context: dg.AssetExecutionContext, entity: Entity, ledger: LedgerResource, source: BillingSourceResource
) -> IngestRun:
    days = days_in_run(context)
    store = ledger.open()
    reports = ingest_from_source(store, source.read, entity, days)
    summary = summarise(reports)
    context.log.info(
        f"{entity.value}: {summary.rows_in} rows in over {len(days)} day(s): "
        f"{summary.accepted} accepted, {summary.quarantined} quarantined {summary.reasons}"
    )
    return IngestRun(entity, store, days, reports, summary, source.describe())


def result(run: IngestRun, extra: dict[str, Any] | None = None) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={**ingest_metadata(run), **(extra or {})},
        check_results=[
            conservation_result(run.ledger, run.entity, run.reports),
            quarantine_rate_result(run.reports),
        ],
    )


def _check_specs(asset: str) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            CONSERVED,
            asset=asset,
            blocking=True,
            description="Rows in = accepted + quarantined for every batch of the run, re-read from the ledger: no "
            "row of the feed was lost. What to do: this should never fail; if it does, a write was cut off or a bug "
            "lost rows. Keep the run's logs, re-run the partition (ingestion is idempotent) and report it.",
        ),
        dg.AssetCheckSpec(
            RATE,
            asset=asset,
            blocking=True,
            description=f"On every business day of the run at most {MAX_QUARANTINE_RATE_ENV} (default 5 %) of the "
            f"rows were quarantined, or fewer than {MIN_QUARANTINED_ENV} (default 10): more means that day's feed "
            "is broken, and scores and reminders wait for it. What to do: open `worst_days` and the asset's "
            "`quarantine_reasons`, run `reminders quarantine --reason <reason>` for the rows, fix the export (or the "
            "mapping) and drop the day's files again; the drop-folder sensor re-runs the day.",
        ),
    ]


ASSET_OPTIONS: dict[str, Any] = {
    **daily_asset_options(GROUP),
    "kinds": {"polars", "sql"},
}


@dg.asset(check_specs=_check_specs("customers"), **ASSET_OPTIONS)
@retry_when_transient
def customers(
    context: dg.AssetExecutionContext, ledger: LedgerResource, billing_source: BillingSourceResource
) -> dg.MaterializeResult:
    """Customers with contact details, time zone, locale, channel preferences and consent."""
    run = run_ingest(context, Entity.CUSTOMERS, ledger, billing_source)
    with run.ledger.begin() as connection:
        reach = receivables.customer_reachability(connection)
    return result(run, {f"ledger_{k}": v for k, v in reach.items()})


@dg.asset(deps=[customers], check_specs=_check_specs("invoices"), **ASSET_OPTIONS)
@retry_when_transient
def invoices(
    context: dg.AssetExecutionContext, ledger: LedgerResource, billing_source: BillingSourceResource
) -> dg.MaterializeResult:
    """Invoices; settlements and dispute flags in invoice-history files update payments and disputes."""
    run = run_ingest(context, Entity.INVOICES, ledger, billing_source)
    with run.ledger.begin() as connection:
        issued = receivables.invoiced(connection, run.days[0], run.days[-1])
    return result(run, {"invoiced_by_currency": table(with_money(issued, label="invoiced"))})


@dg.asset(deps=[invoices], check_specs=_check_specs("payments"), **ASSET_OPTIONS)
@retry_when_transient
def payments(
    context: dg.AssetExecutionContext,
    ledger: LedgerResource,
    billing_source: BillingSourceResource,
    policy: PolicyResource,
) -> dg.MaterializeResult:
    """Payments, partial ones included; each reduces its invoice's balance.

    The last ingestion step, so it reports the receivables as of the run's last day.
    """
    run = run_ingest(context, Entity.PAYMENTS, ledger, billing_source)
    as_of = run.days[-1]
    with run.ledger.begin() as connection:
        received = receivables.payments_received(connection, run.days[0], as_of)
        open_now = receivables.open_invoices(connection, as_of)
    edges = policy.load().segmentation.aging_edges
    aging = aging_summary(open_now, as_of, edges).with_columns(pl.col("aging_bucket").cast(pl.String))
    return result(
        run,
        {
            "received_by_currency": table(with_money(received, label="received")),
            "receivables_as_of": as_of.isoformat(),
            "open_invoices": open_now.height,
            "outstanding_by_currency": table(with_money(outstanding_by_currency(open_now))),
            "aging": table(with_money(aging)),
        },
    )
