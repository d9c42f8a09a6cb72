"""When the risk model retrains: weekly, and on demand from the UI (materialize ``risk_model``)."""

import dagster as dg

from reminder_pipeline import settings
from reminder_pipeline.defs.common.retries import NO_RUN_RETRY_ON_STEP_FAILURE
from reminder_pipeline.defs.risk.assets import risk_model

train_risk_model = dg.define_asset_job(
    "train_risk_model",
    selection=dg.AssetSelection.assets(risk_model),
    description="Train a candidate risk model as of today; the quality gate decides if it replaces the one in use.",
    tags=NO_RUN_RETRY_ON_STEP_FAILURE,
)

weekly_retrain = dg.ScheduleDefinition(
    name="weekly_risk_model_retrain",
    job=train_risk_model,
    cron_schedule="0 3 * * 1",
    execution_timezone=settings.business_timezone(),
    description=f"Every Monday at 03:00 {settings.business_timezone()} (REMINDERS_BUSINESS_TZ): train a candidate "
    "risk model on every customer's invoices of the last two years; the quality gate keeps it only if it beats "
    "the model in use and the rule score, and the daily runs from then on score every customer with it. Only the "
    "latest missed Monday runs after an outage: one retrain catches up.",
)
