"""Reminders: the daily plan (decisions, outbox, audit) and the rendered messages with their checks; with
``REMINDERS_PLAN_SHARDS`` above 1, also the plan by customer shard."""

import dagster as dg

from reminder_pipeline.defs.reminders.assets import reminder_plan, rendered_messages
from reminder_pipeline.defs.reminders.shards import plan_shards, sharded_plan_job

defs = dg.Definitions(
    assets=[reminder_plan, rendered_messages], jobs=[sharded_plan_job(plan_shards())] if plan_shards() > 1 else []
)
