"""Risk: features as known each day, a quality-gated model, daily scores with reasons, segments.

- ``customer_features`` (daily): every invoice open that day, with features as of that day.
- ``risk_model`` (unpartitioned, weekly): a candidate trained as of a day; the blocking
  ``quality_gate`` refuses it if it is worse than the model in use or the rule score, and the
  previous version then stays in use.
- ``risk_scores`` (daily): P(late), expected days late, band and reasons per customer, from the
  version in use on that day, or from the rule score when there is none or it cannot be loaded.
- ``customer_segments`` (daily): risk band × aging × value tier × channel, from the policy file.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import dagster as dg
from pydantic import Field

from reminder_pipeline import settings
from reminder_pipeline.core.model.drift import RETRAIN_PSI
from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.common.metadata import rounded
from reminder_pipeline.defs.common.partitions import daily_asset_options, days_in_run, record_each_day
from reminder_pipeline.defs.common.policy import PolicyResource
from reminder_pipeline.defs.common.retries import retry_when_transient
from reminder_pipeline.defs.risk.metadata import (
    features_metadata,
    scores_metadata,
    segments_metadata,
    training_metadata,
)
from reminder_pipeline.defs.risk.resources import FeatureStore
from reminder_pipeline.risk.service import (
    features_by_day,
    score_and_record_day,
    segment_and_record_day,
    train_and_register,
)

GROUP = "risk"
FEATURES_NAME = "customer_features"
QUALITY_GATE = "quality_gate"
SCORE_DRIFT = "score_drift"
DAILY = daily_asset_options(GROUP)
PAYMENTS = dg.AssetKey("payments")
"""Ingestion's last asset: risk reads the day's billing once it has landed."""


@dg.asset(deps=[PAYMENTS], kinds={"polars"}, **DAILY)
@retry_when_transient
def customer_features(
    context: dg.AssetExecutionContext, ledger: LedgerResource, feature_store: FeatureStore
) -> dg.MaterializeResult:
    """Every invoice open on the day with its customer's features as known that day, never later."""
    days = []
    for day, frame in features_by_day(ledger.open(), days_in_run(context)):
        feature_store.write(FEATURES_NAME, day, frame)
        days.append((day.isoformat(), frame))
    record_each_day(context, ((date.fromisoformat(d), features_metadata([(d, f)])) for d, f in days))
    return dg.MaterializeResult(metadata=features_metadata(days))


class RiskModelConfig(dg.Config):
    as_of: str | None = None
    """Train as of this business day (YYYY-MM-DD); default: today in the business time zone."""
    lookback_days: int = 730
    validation_days: int = 60
    exclude: list[str] = Field(default_factory=list)
    """Source columns or feature names the model must not use (e.g. ``disputed``)."""


def _today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(settings.business_timezone())).date()


@dg.asset(
    deps=[PAYMENTS],
    group_name=GROUP,
    kinds={"lightgbm"},
    check_specs=[
        dg.AssetCheckSpec(
            QUALITY_GATE,
            asset="risk_model",
            blocking=True,
            description="The new model is not worse than the one in use nor than the rule score on the same "
            "validation invoices; otherwise it is stored as rejected and the previous version (or the rule score) "
            "stays in use, so scores never get worse. What to do: nothing is urgent; compare `validation_metrics` "
            "and the calibration plot, and retrain when more history has landed. A warning means too little "
            "history to train yet.",
        )
    ],
)
@retry_when_transient
def risk_model(
    context: dg.AssetExecutionContext, config: RiskModelConfig, ledger: LedgerResource
) -> dg.MaterializeResult:
    """LightGBM P(late) with a median days-late head, stacked and calibrated; versioned in the ledger."""
    training = train_and_register(
        ledger.open(),
        date.fromisoformat(config.as_of) if config.as_of else _today(),
        run_id=context.run.run_id,
        lookback_days=config.lookback_days,
        validation_days=config.validation_days,
        exclude=config.exclude,
    )
    candidate = training.candidate
    context.log.info(f"risk model {training.version}: {candidate.verdict}")
    # Too little history to train and validate: nothing new to refuse, so warn without blocking; the
    # scores keep using the version in use or the rule score.
    severity = dg.AssetCheckSeverity.ERROR if candidate.model is not None else dg.AssetCheckSeverity.WARN
    gate = dg.AssetCheckResult(
        check_name=QUALITY_GATE,
        passed=candidate.passed,
        severity=severity,
        metadata={"verdict": candidate.verdict, "version": training.version},
    )
    return dg.MaterializeResult(metadata=training_metadata(training), check_results=[gate])


@dg.asset(
    deps=[customer_features, risk_model],
    kinds={"lightgbm"},
    check_specs=[
        dg.AssetCheckSpec(
            SCORE_DRIFT,
            asset="risk_scores",
            description=f"Population stability of the score and key features of the day's open invoices against "
            f"the open invoices the model scored on its training day stays below {RETRAIN_PSI}; above, the "
            "population has drifted and the model is judging customers unlike those it learned from. What to do: "
            "materialize risk_model (the train_risk_model job) now instead of waiting for Monday.",
        )
    ],
    **DAILY,
)
@retry_when_transient
def risk_scores(
    context: dg.AssetExecutionContext, ledger: LedgerResource, feature_store: FeatureStore, policy: PolicyResource
) -> dg.MaterializeResult:
    """P(late), expected days late, risk band and reasons per customer with open invoices."""
    segmentation, store = policy.load().segmentation, ledger.open()
    days = [
        score_and_record_day(store, feature_store.read(FEATURES_NAME, day), day, segmentation)
        for day in days_in_run(context)
    ]
    last = days[-1]
    if last.fallback:
        context.log.warning(f"risk scores use the rule score: {last.fallback}")
    worst = max(last.drift.values(), default=0.0)
    drift = dg.AssetCheckResult(
        check_name=SCORE_DRIFT,
        passed=worst < RETRAIN_PSI,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "worst_psi": round(worst, 4),
            "psi": dg.MetadataValue.json(rounded(last.drift)),
            "scorer": last.scored.scorer,
        },
    )
    drawn_for = days[-1].day
    record_each_day(context, ((d.day, scores_metadata([d], segmentation, chart_drawn_for=drawn_for)) for d in days))
    return dg.MaterializeResult(
        metadata=scores_metadata(days, segmentation, chart_drawn_for=drawn_for), check_results=[drift]
    )


@dg.asset(deps=[risk_scores], kinds={"polars"}, **DAILY)
@retry_when_transient
def customer_segments(
    context: dg.AssetExecutionContext, ledger: LedgerResource, feature_store: FeatureStore, policy: PolicyResource
) -> dg.MaterializeResult:
    """Risk band × aging bucket × value tier × channel per customer, boundaries from the policy file."""
    rules, store = policy.load(), ledger.open()
    segments = [
        segment_and_record_day(store, feature_store.read(FEATURES_NAME, day), day, rules.segmentation, rules.version)
        for day in days_in_run(context)
    ]
    record_each_day(
        context, ((d, segments_metadata(s, rules.version)) for d, s in zip(days_in_run(context), segments, strict=True))
    )
    return dg.MaterializeResult(metadata=segments_metadata(segments[-1], rules.version))
