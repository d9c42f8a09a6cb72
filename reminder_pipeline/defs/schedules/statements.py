"""The statement run: on each billing cycle day, the statement of account of that cycle's customers.

``billing_cycle_statements`` (daily) selects the customers whose ``billing_cycle_day`` falls on the
date and writes their statements — every open invoice with its balance, what is overdue, the
cycle's new invoices and where each one's pre-due courtesy reminder stands — to
``$REMINDERS_HOME/statements/<date>.parquet`` for the finance team, with totals per currency in the
metadata. The courtesy reminders themselves are planned, written and sent by the daily run and
delivery, under the same caps and windows as every other message. Sending the statement itself
as a message is not built yet (OPERATIONS.md says what it needs).
"""

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from reminder_pipeline import settings
from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.common.metadata import table, with_money
from reminder_pipeline.defs.common.partitions import business_days, days_in_run
from reminder_pipeline.defs.common.retries import NO_RUN_RETRY_ON_STEP_FAILURE, retry_when_transient
from reminder_pipeline.defs.schedules.catch_up import LOOKBACK_DAYS, days_tried, first_missed, run_request_for
from reminder_pipeline.defs.schedules.cycles import LINE_SCHEMA, statement_lines, statement_totals
from reminder_pipeline.defs.schedules.statement_queries import count_cycle_customers, courtesy_rows, cycle_customers
from reminder_pipeline.defs.schedules.timing import business_date, daily_cron, statements_at
from reminder_pipeline.ledger import receivables

GROUP = "statements"


class StatementStore(dg.ConfigurableResource):
    """Statements as Parquet, one file per cycle date: ``<root>/<YYYY-MM-DD>.parquet`` (root: the data
    directory's ``statements/``)."""

    root: str | None = None

    def path(self, day: str) -> Path:
        return (Path(self.root) if self.root else settings.data_dir() / "statements") / f"{day}.parquet"

    def write(self, day: str, lines: pl.DataFrame) -> Path:
        path = self.path(day)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".parquet.partial")
        lines.write_parquet(partial)
        partial.replace(path)
        return path


@dg.asset(
    deps=[dg.AssetKey("invoices"), dg.AssetKey("payments"), dg.AssetKey("reminder_plan")],
    partitions_def=business_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name=GROUP,
    kinds={"polars", "parquet"},
)
@retry_when_transient
def billing_cycle_statements(
    context: dg.AssetExecutionContext, ledger: LedgerResource, statement_store: StatementStore
) -> dg.MaterializeResult:
    """The statement of account of every customer whose billing cycle falls on the day: open invoices,
    balances, overdue amounts, the cycle's new invoices and where their courtesy reminders stand."""
    store, last = ledger.open(), pl.DataFrame(schema=LINE_SCHEMA)
    per_day: list[dict[str, Any]] = []
    for day in days_in_run(context):
        with store.begin() as connection:
            cycle = cycle_customers(connection, day)
            open_now = receivables.open_invoices(connection, day)
            courtesy = courtesy_rows(connection, cycle["customer_id"])
        last = statement_lines(day, cycle, open_now, courtesy)
        path = statement_store.write(day.isoformat(), last)
        per_day.append(
            {
                "day": day.isoformat(),
                "cycle_customers": cycle.height,
                "with_open_invoices": last["customer_id"].n_unique(),
                "open_invoices": last.height,
                "new_invoices": int(last["new_in_cycle"].sum()),
            }
        )
    context.log.info(f"statements for {per_day[-1]['day']}: {per_day[-1]['with_open_invoices']} customers")
    totals = statement_totals(last)
    shown = (
        with_money(with_money(totals, "overdue_minor", "overdue"), "balance_minor", "balance")
        if totals.height
        else totals
    )
    metadata: dict[str, Any] = {
        "cycle_customers": per_day[-1]["cycle_customers"],
        "customers_with_open_invoices": per_day[-1]["with_open_invoices"],
        "open_invoices": per_day[-1]["open_invoices"],
        "new_invoices": per_day[-1]["new_invoices"],
        "by_currency": table(shown),
        "per_day": table(pl.DataFrame(per_day).tail(31)),
        "path": dg.MetadataValue.path(str(path)),
    }
    return dg.MaterializeResult(metadata=metadata)


STATEMENTS = billing_cycle_statements.key
billing_cycle_statements_job = dg.define_asset_job(
    "statement_run",
    selection=dg.AssetSelection.assets(billing_cycle_statements),
    description="The statements of account of the customers whose billing cycle falls on the day.",
    tags=NO_RUN_RETRY_ON_STEP_FAILURE,
)

_AT, _ZONE = statements_at(), settings.business_timezone()


def _untried_since(first: date | None, day: date, tried: set[date]) -> list[date]:
    """``day`` and, from ``first`` on, the days before it that no run tried."""
    if first is None:
        return [day]
    before = (first + timedelta(days=n) for n in range((day - first).days))
    return [*(d for d in before if d not in tried), day]


@dg.schedule(
    name="billing_cycle_statements_schedule",
    job=billing_cycle_statements_job,
    cron_schedule=daily_cron(_AT),
    execution_timezone=_ZONE,
    description=f"Every day at {_AT:%H:%M} {_ZONE}, an hour after the daily run: for the customers whose "
    "billing_cycle_day falls on the date (a cycle day past a short month's end falls on its last day), their "
    "statement of account with the cycle's new invoices and their courtesy reminders. Skips days on no one's "
    f"cycle. After an outage the first tick also runs the cycle days nobody ran (up to {LOOKBACK_DAYS} days back).",
)
def billing_cycle_statements_schedule(
    context: dg.ScheduleEvaluationContext, ledger: LedgerResource
) -> dg.RunRequest | dg.SkipReason:
    day = business_date(context.scheduled_execution_time)
    if not business_days.has_partition_key(day.isoformat()):
        return dg.SkipReason(f"{day} is before the first business day partition ({settings.partitions_start()})")
    tried = days_tried(context.instance, billing_cycle_statements_job.name, STATEMENTS, day - timedelta(LOOKBACK_DAYS))
    candidates = _untried_since(first_missed(day, tried), day, tried)
    try:
        with ledger.open().begin() as connection:
            on_cycle = [d for d in candidates if count_cycle_customers(connection, d)]
    except Exception as error:  # the run itself retries a ledger that is away, and fails visibly
        context.log.warning(f"the ledger could not be read ({error}); running the statements of {day} anyway")
        on_cycle = [day]
    if not on_cycle:
        return dg.SkipReason(f"no customer's billing cycle falls on {day}")
    first = min(on_cycle)
    return run_request_for(day, first if first < day else None, "statements", {})
