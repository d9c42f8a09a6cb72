from __future__ import annotations

from datetime import date, timedelta

import dagster as dg

from reminder_pipeline import settings

business_days = dg.DailyPartitionsDefinition(
    start_date=settings.partitions_start(),
    timezone=settings.business_timezone(),
    end_offset=1,
)


def days_in_run(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
) -> list[date]:
    """The business dates a (possibly multi-partition, single-run backfill) run covers, in order."""
    keys = context.partition_key_range
    first, last = date.fromisoformat(keys.start), date.fromisoformat(keys.end)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
