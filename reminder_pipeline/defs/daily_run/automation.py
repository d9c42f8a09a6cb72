"""The daily run: every business-day asset in one run, started by a schedule or by files landing.

Ingestion, features, risk scores, segments, the reminder plan and its messages of a day run
together, so a file that arrives late also refreshes that day's scores, segments and plan. Days
missed during an outage are caught up by the schedule's next tick in the same run as its own day
(``defs/schedules/catch_up.py``), or by the operator's backfill over the missed range (one run,
OPERATIONS.md): the plan of a day whose send window is over sends nothing, and the next live day
plans only the highest step now due.

This domain composes the others, and is the only one that imports them: their assets, the schedules'
timing, and ingestion's billing source, which the drop folder sensor watches. The billing source stays
in ``defs/ingestion``: ingestion alone reads it (``defs/common`` holds what several domains use).
"""

import json
import os
import time
from datetime import timedelta

import dagster as dg

from reminder_pipeline import settings
from reminder_pipeline.defs.common.partitions import business_days
from reminder_pipeline.defs.common.policy import PolicyResource
from reminder_pipeline.defs.common.retries import NO_RUN_RETRY_ON_STEP_FAILURE
from reminder_pipeline.defs.ingestion.assets import customers, invoices, payments
from reminder_pipeline.defs.ingestion.resources import BillingSourceResource, DropFolderSource
from reminder_pipeline.defs.reminders.assets import reminder_plan, rendered_messages
from reminder_pipeline.defs.risk.assets import customer_features, customer_segments, risk_scores
from reminder_pipeline.defs.schedules.calendar import quiet_everywhere
from reminder_pipeline.defs.schedules.catch_up import LOOKBACK_DAYS, days_tried, first_missed, run_request_for
from reminder_pipeline.defs.schedules.timing import (
    DAILY_PRIORITY,
    DAILY_RUN_AT_ENV,
    PRIORITY_TAG,
    business_date,
    daily_cron,
    daily_run_at,
)

MAX_RUNS_PER_TICK = 10
PLAN_ASSET = dg.AssetKey("reminder_plan")
SETTLE_SECONDS_ENV = "REMINDERS_DROP_SETTLE_SECONDS"
DEFAULT_SETTLE_SECONDS = 60.0
"""A day folder is only ingested once none of its files changed for this long: a file still being
copied in is not read half-written. Writers should still write under another name and rename."""


def settle_seconds() -> float:
    return float(os.environ.get(SETTLE_SECONDS_ENV) or DEFAULT_SETTLE_SECONDS)


daily_run = dg.define_asset_job(
    "daily_run",
    selection=dg.AssetSelection.assets(
        customers,
        invoices,
        payments,
        customer_features,
        risk_scores,
        customer_segments,
        reminder_plan,
        rendered_messages,
    ),
    description="One business day: ingest billing data, compute features, score risk, segment customers, "
    "plan the reminders and write the messages.",
    tags=NO_RUN_RETRY_ON_STEP_FAILURE,
)

_RUN_AT, _ZONE = daily_run_at(), settings.business_timezone()


@dg.schedule(
    name="daily_run_schedule",
    job=daily_run,
    cron_schedule=daily_cron(_RUN_AT),
    execution_timezone=_ZONE,
    description=f"Every day at {_RUN_AT:%H:%M} {_ZONE} ({DAILY_RUN_AT_ENV}, REMINDERS_BUSINESS_TZ): the daily run "
    "of that business date for every customer. Skips a day that is a business day in no country of the "
    "policy (the next run covers it). After an outage the first tick also runs the days nobody ran since the "
    f"last daily run (up to {LOOKBACK_DAYS}), in the same run and in order: their plans send nothing late, "
    "today's sends only the highest step now due.",
)
def daily_run_schedule(context: dg.ScheduleEvaluationContext, policy: PolicyResource) -> dg.RunRequest | dg.SkipReason:
    day = business_date(context.scheduled_execution_time)
    if not business_days.has_partition_key(day.isoformat()):
        return dg.SkipReason(f"{day} is before the first business day partition ({settings.partitions_start()})")
    try:
        quiet = quiet_everywhere(policy.load().contact, day)
    except Exception as error:  # a broken policy fails the run, where the failure alert tells someone
        context.log.warning(f"the policy could not be read ({error}); running {day} anyway")
        quiet = None
    if quiet:
        return dg.SkipReason(f"{quiet}: nobody may be contacted; the next daily run ingests it")
    since = day - timedelta(days=LOOKBACK_DAYS)
    first = first_missed(day, days_tried(context.instance, daily_run.name, PLAN_ASSET, since))
    if first is not None:
        context.log.info(f"catching up {first} .. {day - timedelta(days=1)} in the run for {day}")
    return run_request_for(day, first, "daily", {PRIORITY_TAG: DAILY_PRIORITY})


def _fingerprint(source: DropFolderSource, settled_before: float) -> dict[str, str]:
    """A fingerprint per day folder whose files all last changed before ``settled_before`` (epoch seconds)."""
    folder = source.folder()
    prints: dict[str, str] = {}
    for day in folder.dates_with_files():
        stats = sorted((p.name, p.stat()) for p in folder.day_folder(day).iterdir() if p.is_file())
        if any(stat.st_mtime > settled_before for _, stat in stats):
            continue
        prints[day.isoformat()] = "|".join(f"{name}:{stat.st_size}:{stat.st_mtime_ns}" for name, stat in stats)
    return prints


@dg.sensor(
    job=daily_run,
    minimum_interval_seconds=60,
    description="Starts the daily run for each business day whose drop folder gained or changed files, once "
    f"they have not changed for {SETTLE_SECONDS_ENV} seconds (default {DEFAULT_SETTLE_SECONDS:.0f}).",
)
def drop_folder_sensor(context: dg.SensorEvaluationContext, billing_source: BillingSourceResource) -> dg.SensorResult:
    if not isinstance(billing_source, DropFolderSource):
        return dg.SensorResult(skip_reason="the billing source is not a drop folder")
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    current = _fingerprint(billing_source, time.time() - settle_seconds())
    partitions = set(business_days.get_partition_keys())
    changed = [day for day, print_ in sorted(current.items()) if seen.get(day) != print_ and day in partitions]
    requests = [
        dg.RunRequest(partition_key=day, run_key=f"{day}:{current[day]}") for day in changed[:MAX_RUNS_PER_TICK]
    ]
    for day in changed[:MAX_RUNS_PER_TICK]:
        seen[day] = current[day]
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))
