"""A day's reminder plan fanned out by customer shard: one run per (business day, shard) partition.

Only registered when ``REMINDERS_PLAN_SHARDS`` is above 1 (the default, 1, leaves the code location as it
is: ``reminder_plan`` plans everyone). Each run plans its shard's customers (``Shard``), so a backfill of a
day's shard partitions runs as separate processes with the default run launcher, or as separate pods with
the K8sRunLauncher; the UI shows the partitions by date and shard. Rendering and delivery stay per day.
"""

import os
from datetime import date

import dagster as dg

from reminder_pipeline import settings
from reminder_pipeline.core.planning.shards import Shard
from reminder_pipeline.defs.common.clock import ClockConfig, run_instant
from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.common.partitions import business_days
from reminder_pipeline.defs.common.policy import PolicyResource
from reminder_pipeline.reminders.service import plan_and_record_day

SHARDS_ENV = "REMINDERS_PLAN_SHARDS"
SHARD_COUNT_TAG = "reminders/shard_count"


def plan_shards() -> int:
    """How many customer shards a day's plan is split into (``REMINDERS_PLAN_SHARDS``, default 1)."""
    count = int(os.environ.get(SHARDS_ENV) or 1)
    if count < 1:
        raise ValueError(f"{SHARDS_ENV} must be at least 1, not {count}")
    return count


def shard_partitions(count: int) -> dg.MultiPartitionsDefinition:
    shards = dg.StaticPartitionsDefinition([str(i) for i in range(count)])
    return dg.MultiPartitionsDefinition({"date": business_days, "shard": shards})


@dg.op(pool="ledger_writes")
def plan_shard(
    context: dg.OpExecutionContext, config: ClockConfig, ledger: LedgerResource, policy: PolicyResource
) -> dict[str, object]:
    """The day's decisions and outbox rows of one shard's customers."""
    count = int(context.run.tags[SHARD_COUNT_TAG])
    keys = shard_partitions(count).get_partition_key_from_str(context.partition_key).keys_by_dimension
    day = date.fromisoformat(keys["date"])
    shard, rules = Shard(int(keys["shard"]), count), policy.load()
    planned = plan_and_record_day(
        ledger.open(),
        rules,
        day,
        run_instant(config, day),
        run_id=context.run.run_id,
        business_tz=settings.business_timezone(),
        shard=shard,
    )
    summary = planned.summary() | {"shard": shard.label}
    context.log.info(f"reminder plan for {day} shard {shard.label}: {summary['send']} to send")
    return summary


def sharded_plan_job(count: int) -> dg.JobDefinition:
    """``reminder_plan_by_shard``: partitions by business day and shard among ``count``."""

    @dg.job(partitions_def=shard_partitions(count), tags={SHARD_COUNT_TAG: str(count)})
    def reminder_plan_by_shard() -> None:
        plan_shard()

    return reminder_plan_by_shard
