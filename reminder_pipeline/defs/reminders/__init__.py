"""Reminders: the daily plan (decisions, outbox, audit) and the rendered messages with their checks."""

import dagster as dg

from reminder_pipeline.defs.reminders.assets import reminder_plan, rendered_messages

defs = dg.Definitions(assets=[reminder_plan, rendered_messages])
