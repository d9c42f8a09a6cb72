"""Schedules tied to the business calendar and billing cycles, and what they need: the statement run,
catching up days nobody ran, the business days of the policy. The daily run's schedule lives with its
job (``defs/daily_run``), the weekly retrain with the model (``defs/risk``); both use these helpers."""

import dagster as dg

from reminder_pipeline.defs.schedules.statements import (
    StatementStore,
    billing_cycle_statements,
    billing_cycle_statements_job,
    billing_cycle_statements_schedule,
)

defs = dg.Definitions(
    assets=[billing_cycle_statements],
    jobs=[billing_cycle_statements_job],
    schedules=[billing_cycle_statements_schedule],
    resources={"statement_store": StatementStore()},
)
