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
from collections.abc import Callable
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
from reminder_pipeline.defs.common.partitions import daily_asset_options, days_in_run, record_each_day
from reminder_pipeline.defs.common.plots import bar_chart, chart_of_the_runs_last_day
from reminder_pipeline.defs.common.policy import PolicyResource
from reminder_pipeline.defs.common.retries import retry_when_transient
from reminder_pipeline.defs.ingestion.previews import customer_preview
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


Extra = Callable[[Ledger, date, date], dict[str, Any]]
"""An entity's own figures for the business days ``first .. last`` of a run."""


def _no_extra(_ledger: Ledger, _first: date, _last: date) -> dict[str, Any]:
    return {}


def of_day(run: IngestRun, day: date) -> IngestRun:
    """The part of a run that one business day's batches make."""
    reports = [r for r in run.reports if r.business_date == day]
    return IngestRun(run.entity, run.ledger, [day], reports, summarise(reports), run.source)


def result(context: dg.AssetExecutionContext, run: IngestRun, extra: Extra = _no_extra) -> dg.MaterializeResult:
    """The run's figures and checks; in a backfill each partition also gets its own day's figures."""
    record_each_day(
        context, ((day, {**ingest_metadata(of_day(run, day)), **extra(run.ledger, day, day)}) for day in run.days)
    )
    return dg.MaterializeResult(
        metadata={**ingest_metadata(run), **extra(run.ledger, run.days[0], run.days[-1])},
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


def customer_figures(ledger: Ledger, first: date, last: date) -> dict[str, Any]:
    """How many customers can be reached (the whole ledger), and a few of those learnt on these days, masked."""
    with ledger.begin() as connection:
        reach = receivables.customer_reachability(connection)
        preview = customer_preview(connection, first, last)
    return {f"ledger_{k}": v for k, v in reach.items()} | {"preview": preview}


def invoiced_figures(ledger: Ledger, first: date, last: date) -> dict[str, Any]:
    with ledger.begin() as connection:
        issued = receivables.invoiced(connection, first, last)
    return {"invoiced_by_currency": table(with_money(issued, label="invoiced"))}


def receivables_figures(
    ledger: Ledger, first: date, last: date, edges: list[int], *, chart_drawn_for: date
) -> dict[str, Any]:
    """Money received over ``first .. last``, and what is owed and how late, as of ``last``.

    The aging chart is drawn as of ``chart_drawn_for`` (the run's last day) only.
    """
    with ledger.begin() as connection:
        received = receivables.payments_received(connection, first, last)
        open_now = receivables.open_invoices(connection, last)
    aging = aging_summary(open_now, last, edges)
    per_bucket = aging.group_by("aging_bucket").agg(pl.col("invoices").sum()).sort("aging_bucket")
    shown = aging.with_columns(pl.col("aging_bucket").cast(pl.String)).rename({"aging_bucket": "days_past_due"})
    return {
        "received_by_currency": table(with_money(received, label="received")),
        "receivables_as_of": last.isoformat(),
        "open_invoices": open_now.height,
        "outstanding_by_currency": table(with_money(outstanding_by_currency(open_now))),
        "aging": table(with_money(shown)),
        "aging_chart": chart_of_the_runs_last_day(
            last,
            chart_drawn_for,
            lambda: bar_chart(
                per_bucket["aging_bucket"].cast(pl.String).to_list(),
                per_bucket["invoices"].to_list(),
                title=f"Open invoices by days past due, {last}",
                unit="open invoices",
            ),
            figures="aging",
        ),
    }


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
    return result(context, run_ingest(context, Entity.CUSTOMERS, ledger, billing_source), customer_figures)


@dg.asset(deps=[customers], check_specs=_check_specs("invoices"), **ASSET_OPTIONS)
@retry_when_transient
def invoices(
    context: dg.AssetExecutionContext, ledger: LedgerResource, billing_source: BillingSourceResource
) -> dg.MaterializeResult:
    """Invoices; settlements and dispute flags in invoice-history files update payments and disputes."""
    return result(context, run_ingest(context, Entity.INVOICES, ledger, billing_source), invoiced_figures)


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
    edges = policy.load().segmentation.aging_edges
    last_day = run.days[-1]
    return result(
        context,
        run,
        lambda store, first, last: receivables_figures(store, first, last, edges, chart_drawn_for=last_day),
    )
