"""The statement run: on each billing cycle day, the statement of account of that cycle's customers.

``billing_cycle_statements`` (daily) selects the customers whose ``billing_cycle_day`` falls on the
date and, for each one with something owed, puts one statement of account in the outbox (keyed on
customer and cycle date: a re-run or a backfill never makes a second) and writes it — by email a
table of the open invoices with the totals by currency, to a customer reachable only by SMS a short
summary when the policy allows it. Delivery sends it like any reminder: in the customer's send
window, within the rules of contact, after a last look at the ledger. A courtesy note the day's plan
wrote for the same customer is folded into the statement (``core.statements.plan``). The lines of
every statement are also archived in ``$REMINDERS_HOME/statements/<date>.parquet`` for the finance
team, with totals per currency in the metadata.
"""

from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import polars as pl

from reminder_pipeline import settings
from reminder_pipeline.defs.common.clock import ClockConfig, run_instant
from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.common.messages import LinkSignerResource, TemplatesResource
from reminder_pipeline.defs.common.partitions import business_days, days_in_run, record_each_day
from reminder_pipeline.defs.common.policy import PolicyResource
from reminder_pipeline.defs.common.retries import NO_RUN_RETRY_ON_STEP_FAILURE, retry_when_transient
from reminder_pipeline.defs.schedules.catch_up import LOOKBACK_DAYS, days_tried, first_missed, run_request_for
from reminder_pipeline.defs.schedules.statement_metadata import statements_metadata
from reminder_pipeline.defs.schedules.timing import business_date, daily_cron, statements_at
from reminder_pipeline.ledger.statements import count_cycle_customers
from reminder_pipeline.statements.service import statement_run_day

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
    kinds={"polars", "parquet", "jinja"},
)
@retry_when_transient
def billing_cycle_statements(
    context: dg.AssetExecutionContext,
    config: ClockConfig,
    ledger: LedgerResource,
    statement_store: StatementStore,
    policy: PolicyResource,
    templates: TemplatesResource,
    links: LinkSignerResource,
) -> dg.MaterializeResult:
    """The statement of account of every customer whose billing cycle falls on the day, in the outbox and
    written, at most once per customer and cycle; its lines archived as Parquet."""
    store, rules, words, signer = ledger.open(), policy.load(), templates.load(), links.signer()
    runs, paths, own = [], [], []
    for day in days_in_run(context):
        now = run_instant(config, day)
        runs.append(statement_run_day(store, rules, words, signer, day, now, business_tz=settings.business_timezone()))
        paths.append(statement_store.write(day.isoformat(), runs[-1].lines))
        own.append((day, statements_metadata(runs[-1:], paths[-1])))
    sent = runs[-1].statements.summary()
    context.log.info(f"statements for {sent['day']}: {sent['planned']} planned, {sent['rendered']} written")
    record_each_day(context, own)
    return dg.MaterializeResult(metadata=statements_metadata(runs, paths[-1]))


STATEMENTS = billing_cycle_statements.key
billing_cycle_statements_job = dg.define_asset_job(
    "statement_run",
    selection=dg.AssetSelection.assets(billing_cycle_statements),
    description="The statements of account of the customers whose billing cycle falls on the day: one "
    "message each (email, or an SMS summary), sent by the delivery runs.",
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
    "statement of account as one message each (email, or an SMS summary), with a courtesy note due that day "
    "folded in; the delivery runs send them in each customer's window. Skips days on no one's "
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
