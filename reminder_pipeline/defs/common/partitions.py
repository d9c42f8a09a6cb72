"""Business-day partitions and what every daily asset shares."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import dagster as dg

from reminder_pipeline import settings

warnings.filterwarnings("ignore", message=r"Parameter `backfill_policy`", category=dg.BetaWarning)
"""Single-run backfills are a deliberate choice (one run per range keeps a day's order and the ledger's pool):
Dagster's warning that the parameter is in beta would be printed once per daily asset by every command."""
business_days = dg.DailyPartitionsDefinition(
    start_date=settings.partitions_start(),
    timezone=settings.business_timezone(),
    end_offset=1,
)


def daily_asset_options(group: str) -> dict[str, Any]:
    """What every business-day asset shares: the partitions, one run for a backfill, the ledger's write pool."""
    return {
        "partitions_def": business_days,
        "backfill_policy": dg.BackfillPolicy.single_run(),
        "group_name": group,
        "pool": "ledger_writes",
    }


def days_in_run(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
) -> list[date]:
    """The business dates a (possibly multi-partition, single-run backfill) run covers, in order."""
    keys = context.partition_key_range
    first, last = date.fromisoformat(keys.start), date.fromisoformat(keys.end)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def record_each_day(context: dg.AssetExecutionContext, figures: Iterable[tuple[date, Mapping[str, Any]]]) -> None:
    """Give each partition of a run over several business days (a backfill) its own day's figures.

    Dagster writes a single-run backfill's result metadata on every partition it covers; a partition's
    own figures, added here, take precedence over it key by key. A one-day run needs none.
    """
    keys = context.partition_key_range
    if keys.start == keys.end:
        return
    for day, metadata in figures:
        context.add_asset_metadata(dict(metadata), partition_key=day.isoformat())
