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
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import numpy as np
import polars as pl
from pydantic import Field

from reminder_pipeline import settings
from reminder_pipeline.core.features.build import scoring_features
from reminder_pipeline.core.model.drift import RETRAIN_PSI, population_drift
from reminder_pipeline.core.model.risk_model import RiskModel
from reminder_pipeline.core.model.training import train_candidate
from reminder_pipeline.core.scoring import RULE_SCORER, score_day
from reminder_pipeline.core.segments import segment_customers, segment_summary
from reminder_pipeline.defs.ingestion.assets import payments
from reminder_pipeline.defs.ingestion.partitions import daily_asset_options, days_in_run
from reminder_pipeline.defs.metadata import table, with_money
from reminder_pipeline.defs.resources import LedgerResource
from reminder_pipeline.defs.retries import retry_when_transient
from reminder_pipeline.defs.risk.plots import calibration_plot, importance_plot
from reminder_pipeline.defs.risk.resources import FeatureStore, PolicyResource
from reminder_pipeline.ledger.history import load_contacts, load_history
from reminder_pipeline.ledger.model_registry import ModelVersion, active_version, save_version, version_for
from reminder_pipeline.ledger.risk import read_scores, write_scores, write_segments

GROUP = "risk"
FEATURES_NAME = "customer_features"
QUALITY_GATE = "quality_gate"
SCORE_DRIFT = "score_drift"
DAILY = daily_asset_options(GROUP)


@dg.asset(deps=[payments], kinds={"polars"}, **DAILY)
@retry_when_transient
def customer_features(
    context: dg.AssetExecutionContext, ledger: LedgerResource, feature_store: FeatureStore
) -> dg.MaterializeResult:
    """Every invoice open on the day with its customer's features as known that day, never later."""
    with ledger.open().begin() as connection:
        history = load_history(connection)
    per_day = []
    frame = pl.DataFrame()
    for day in days_in_run(context):
        frame = scoring_features(history, day)
        feature_store.write(FEATURES_NAME, day, frame)
        per_day.append(
            {"day": day.isoformat(), "open_invoices": frame.height, "customers": frame["customer_id"].n_unique()}
        )
    summary = frame.select(
        pl.len().alias("open_invoices"),
        pl.col("customer_id").n_unique().alias("customers"),
        pl.col("hist_late_rate").mean().alias("mean_late_share"),
        pl.col("hist_resolved").eq(0).mean().alias("share_without_history"),
        pl.col("other_overdue_invoices").gt(0).mean().alias("share_with_other_overdue"),
    )
    return dg.MaterializeResult(
        metadata={
            **{
                k: (round(v, 4) if isinstance(v, float) else v)
                for k, v in summary.row(0, named=True).items()
                if v is not None
            },
            "business_days": len(per_day),
            "per_day": table(pl.DataFrame(per_day).tail(31)),
        }
    )


class RiskModelConfig(dg.Config):
    as_of: str | None = None
    """Train as of this business day (YYYY-MM-DD); default: today in the business time zone."""
    lookback_days: int = 730
    validation_days: int = 60
    exclude: list[str] = Field(default_factory=list)
    """Source columns or feature names the model must not use (e.g. ``disputed``)."""


def _load(version: ModelVersion | None) -> tuple[RiskModel | None, str]:
    """The version's model, or None with the reason it cannot be used."""
    if version is None:
        return None, "no model trained on or before this day"
    if not version.intact:
        return None, f"model {version.version} is corrupt (checksum mismatch)"
    try:
        return RiskModel.from_text(version.bundle), ""
    except Exception as exc:
        return None, f"model {version.version} cannot be loaded ({type(exc).__name__})"


def _today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(settings.business_timezone())).date()


@dg.asset(
    deps=[payments],
    group_name=GROUP,
    kinds={"lightgbm"},
    check_specs=[
        dg.AssetCheckSpec(
            QUALITY_GATE,
            asset="risk_model",
            blocking=True,
            description="The new model is not worse than the one in use nor than the rule score on the same "
            "validation invoices; otherwise it is stored as rejected and the previous version stays in use.",
        )
    ],
)
@retry_when_transient
def risk_model(
    context: dg.AssetExecutionContext, config: RiskModelConfig, ledger: LedgerResource
) -> dg.MaterializeResult:
    """LightGBM P(late) with a median days-late head, stacked and calibrated; versioned in the ledger."""
    as_of = date.fromisoformat(config.as_of) if config.as_of else _today()
    store = ledger.open()
    with store.begin() as connection:
        history = load_history(connection)
        current, _ = _load(active_version(connection))
    candidate = train_candidate(
        history,
        as_of,
        lookback_days=config.lookback_days,
        validation_days=config.validation_days,
        exclude=config.exclude,
        current=current,
    )
    # the training day, the time, and the run: two trainings in the same second stay two versions
    version = f"{as_of.isoformat()}-{datetime.now(UTC):%H%M%S}-{context.run.run_id[:6]}"
    metadata: dict[str, Any] = {
        "version": version,
        "trained_as_of": as_of.isoformat(),
        "window": f"{candidate.window[0]} .. {candidate.window[1]}",
        "fit_invoices": candidate.n_fit,
        "validation_invoices": candidate.n_validation,
        "verdict": candidate.verdict,
    }
    if candidate.model is not None:
        with store.begin() as connection:
            status = save_version(
                connection,
                version=version,
                trained_as_of=as_of,
                window=candidate.window,
                features=candidate.model.features,
                metrics={**candidate.metrics, "calibration": candidate.calibration.to_dicts()},
                reference=candidate.reference,
                bundle=candidate.model.to_text(),
                promote=candidate.passed,
            )
        rows = [{"model": name, **values} for name, values in candidate.metrics.items() if values is not None]
        metadata |= {
            "status": status,
            "validation_metrics": table(pl.DataFrame(rows).select("model", "auc", "pr_auc", "brier", "base_rate", "n")),
            "auc": round(candidate.metrics["candidate"]["auc"], 4),  # type: ignore[index]
            "calibration": calibration_plot(candidate.calibration),
            "calibration_table": table(candidate.calibration),
            "feature_importance": importance_plot(candidate.model.importance()),
            "features": dg.MetadataValue.json(candidate.model.features),
        }
    context.log.info(f"risk model {version}: {candidate.verdict}")
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            dg.AssetCheckResult(
                check_name=QUALITY_GATE,
                passed=candidate.passed,
                # Too little history to train and validate: nothing new to refuse, so warn without
                # blocking; the scores keep using the version in use or the rule score.
                severity=dg.AssetCheckSeverity.ERROR if candidate.model is not None else dg.AssetCheckSeverity.WARN,
                metadata={"verdict": candidate.verdict, "version": version},
            )
        ],
    )


def _drift(version: ModelVersion | None, features: pl.DataFrame, p_late: np.ndarray) -> dict[str, float]:
    return population_drift(version.reference, features, p_late) if version is not None else {}


@dg.asset(
    deps=[customer_features, risk_model],
    kinds={"lightgbm"},
    check_specs=[
        dg.AssetCheckSpec(
            SCORE_DRIFT,
            asset="risk_scores",
            description=f"Population stability of the score and key features of the day's open invoices against "
            f"the open invoices the model scored on its training day stays below {RETRAIN_PSI}; above, the "
            "population has drifted: retrain the model.",
        )
    ],
    **DAILY,
)
@retry_when_transient
def risk_scores(
    context: dg.AssetExecutionContext, ledger: LedgerResource, feature_store: FeatureStore, policy: PolicyResource
) -> dg.MaterializeResult:
    """P(late), expected days late, risk band and reasons per customer with open invoices."""
    bands = policy.load().segmentation.risk_bands
    store = ledger.open()
    per_day, drift, fallback = [], {}, ""
    scored = None
    for day in days_in_run(context):
        features = feature_store.read(FEATURES_NAME, day)
        with store.begin() as connection:
            version = version_for(connection, day)
        model, fallback = _load(version)
        label = version.version if (version is not None and model is not None) else RULE_SCORER
        scored = score_day(features, day, bands, model, label)
        with store.begin() as connection:
            write_scores(connection, day, scored.customers, scored.invoices, scored.scorer)
        drift = _drift(version if model is not None else None, features, scored.invoices["p_late"].to_numpy())
        per_day.append({"day": day.isoformat(), "scorer": scored.scorer, "customers": scored.customers.height})
    assert scored is not None
    if fallback:
        context.log.warning(f"risk scores use the rule score: {fallback}")
    bands_table = scored.customers.group_by("risk_band").agg(pl.len().alias("customers"), pl.col("p_late").mean())
    worst = max(drift.values(), default=0.0)
    return dg.MaterializeResult(
        metadata={
            "scorer": scored.scorer,
            "fallback_reason": fallback or "none: the model in use scored every day",
            "customers": scored.customers.height,
            "mean_p_late": round(float(np.mean(scored.customers["p_late"].to_numpy())), 4),
            "by_band": table(bands_table.sort("risk_band")),
            "per_day": table(pl.DataFrame(per_day).tail(31)),
            "drift_psi": dg.MetadataValue.json(drift),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=SCORE_DRIFT,
                passed=worst < RETRAIN_PSI,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"worst_psi": worst, "psi": dg.MetadataValue.json(drift), "scorer": scored.scorer},
            )
        ],
    )


@dg.asset(deps=[risk_scores], kinds={"polars"}, **DAILY)
@retry_when_transient
def customer_segments(
    context: dg.AssetExecutionContext, ledger: LedgerResource, feature_store: FeatureStore, policy: PolicyResource
) -> dg.MaterializeResult:
    """Risk band × aging bucket × value tier × channel per customer, boundaries from the policy file."""
    rules = policy.load()
    store = ledger.open()
    with store.begin() as connection:
        contacts = load_contacts(connection)
    segments = pl.DataFrame()
    for day in days_in_run(context):
        open_invoices = feature_store.read(FEATURES_NAME, day)
        with store.begin() as connection:
            scores = read_scores(connection, day)
        segments = segment_customers(scores, open_invoices, contacts, rules.segmentation, day)
        with store.begin() as connection:
            write_segments(connection, day, segments, rules.version)
    summary = segment_summary(segments)
    return dg.MaterializeResult(
        metadata={
            "policy_version": rules.version,
            "customers": segments.height,
            "segments": summary["segment"].n_unique() if summary.height else 0,
            "by_segment": table(with_money(summary)),
            **{
                f"by_{dimension}": table(segments.group_by(dimension).len().sort(dimension))
                for dimension in ("risk_band", "aging_bucket", "value_tier", "channel")
            },
        }
    )
