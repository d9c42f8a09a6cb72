"""The daily run: every business-day asset in one run, started by a schedule or by files landing.

Ingestion, features, risk scores, segments, the reminder plan and its messages of a day run
together, so a file that arrives late also refreshes that day's scores, segments and plan. Days
missed during an outage are caught up by a backfill over the missed range (one run, see README):
the plan of a day whose send window is over sends nothing, and the next live day plans only the
highest step now due.
"""

import json
import os
import time

import dagster as dg

from reminder_pipeline.defs.common.partitions import business_days
from reminder_pipeline.defs.common.retries import NO_RUN_RETRY_ON_STEP_FAILURE
from reminder_pipeline.defs.ingestion.assets import customers, invoices, payments
from reminder_pipeline.defs.ingestion.resources import BillingSourceResource, DropFolderSource
from reminder_pipeline.defs.reminders.assets import reminder_plan, rendered_messages
from reminder_pipeline.defs.risk.assets import customer_features, customer_segments, risk_scores

MAX_RUNS_PER_TICK = 10
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

daily_run_schedule = dg.build_schedule_from_partitioned_job(
    daily_run,
    hour_of_day=6,
    description="The day's run at 06:00 business time. Days missed during an outage are caught up by the "
    "drop-folder sensor or a backfill, not by this schedule.",
)


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
