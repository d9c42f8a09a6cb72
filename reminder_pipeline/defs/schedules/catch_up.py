"""Days nobody ran: a scheduled tick brings them in with its own day, in one run, in order.

The Dagster 1.13 daemon evaluates only the latest tick a schedule missed (``max_catchup_runs``
does not apply to the schedules a code location declares), so after an outage the first tick
covers the gap itself: the days since the last daily run that no run tried, up to
``LOOKBACK_DAYS``, become one single run over the partition range ``first .. today``. Its
assets take the days in order — every day's billing data is ingested before today's plan — and
the plan of a day whose send windows are over sends nothing, so only the highest step now due
goes out today (promise 5).

A day a run tried and failed is not caught up here: the failure alert went out, and running its
broken feed again with today's would block today too. The operator re-runs it (OPERATIONS.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta

import dagster as dg

from reminder_pipeline import settings

LOOKBACK_DAYS = 31
"""How far back a tick looks for days nobody ran; a longer outage is the operator's backfill."""
CATCH_UP_TAG = "reminders/catch_up"
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def days_of_run(tags: Mapping[str, str]) -> set[date]:
    """The business dates a run covers, from its partition or partition-range tags."""
    if PARTITION_TAG in tags:
        return {date.fromisoformat(tags[PARTITION_TAG])}
    if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        first, last = date.fromisoformat(tags[RANGE_START_TAG]), date.fromisoformat(tags[RANGE_END_TAG])
        return {first + timedelta(days=n) for n in range((last - first).days + 1)}
    return set()


def days_tried(instance: dg.DagsterInstance, job_name: str, asset: dg.AssetKey, since: date) -> set[date]:
    """Business dates from ``since`` on that a run of ``job_name`` covered (whatever its outcome), or that
    ``asset`` was materialized for (by any job: a backfill from the UI too)."""
    tried = {date.fromisoformat(key) for key in instance.get_materialized_partitions(asset) if key >= str(since)}
    after = datetime.combine(since - timedelta(days=1), time(0), tzinfo=UTC)
    for record in instance.get_run_records(dg.RunsFilter(job_name=job_name, created_after=after)):
        tried |= {day for day in days_of_run(record.dagster_run.tags) if day >= since}
    return tried


def first_missed(day: date, tried: Iterable[date], lookback: int = LOOKBACK_DAYS) -> date | None:
    """The earliest day before ``day`` that no run tried since the first one that was, within ``lookback``.

    None when every day since the first tried one was tried, or when nothing was tried in the window (a
    new deployment, or an outage longer than the window: then the operator chooses the backfill).
    """
    start = max(day - timedelta(days=lookback), date.fromisoformat(settings.partitions_start()))
    seen = {d for d in tried if start <= d < day}
    if not seen:
        return None
    gaps = [
        d for d in (start + timedelta(days=n) for n in range((day - start).days)) if d > min(seen) and d not in seen
    ]
    return min(gaps) if gaps else None


def run_request_for(day: date, first: date | None, key_prefix: str, tags: Mapping[str, str]) -> dg.RunRequest:
    """The run for ``day``, or for ``first .. day`` in one run when days were missed."""
    if first is None:
        return dg.RunRequest(run_key=f"{key_prefix}-{day}", partition_key=day.isoformat(), tags=dict(tags))
    gap = f"{first}...{day - timedelta(days=1)}"
    return dg.RunRequest(
        run_key=f"{key_prefix}-{first}-{day}",
        tags={**tags, RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: day.isoformat(), CATCH_UP_TAG: gap},
    )
