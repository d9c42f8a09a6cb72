"""Risk: as-of features, the quality-gated LightGBM model, daily risk scores with reasons, segments."""

import dagster as dg

from reminder_pipeline.defs.risk.assets import customer_features, customer_segments, risk_model, risk_scores
from reminder_pipeline.defs.risk.automation import train_risk_model, weekly_retrain
from reminder_pipeline.defs.risk.resources import FeatureStore

defs = dg.Definitions(
    assets=[customer_features, risk_model, risk_scores, customer_segments],
    jobs=[train_risk_model],
    schedules=[weekly_retrain],
    resources={"feature_store": FeatureStore()},
)
