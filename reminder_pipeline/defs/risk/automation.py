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
    description="Retrain the risk model every Monday at 03:00 business time.",
)
