"""Operations: re-planning after live payments, alerting the operator about failed runs, quiet providers."""

import dagster as dg

from reminder_pipeline.defs.operations.checks import provider_events_fresh
from reminder_pipeline.defs.operations.sensors import replan_after_payments, replan_today, run_failure_alert

defs = dg.Definitions(
    jobs=[replan_today], sensors=[replan_after_payments, run_failure_alert], asset_checks=provider_events_fresh
)
