"""Risk as business days run it: the day's features, a quality-gated model, scores, segments.

Each function reads what it needs from the ledger, calls the pure core, and writes its results
in a transaction of its own; the Dagster assets, the benchmarks and the simulation call these, so
they all run the same code path.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl

from reminder_pipeline.core.features.build import scoring_features
from reminder_pipeline.core.model.drift import population_drift
from reminder_pipeline.core.model.risk_model import RiskModel
from reminder_pipeline.core.model.training import Candidate, train_candidate
from reminder_pipeline.core.policy.config import Segmentation
from reminder_pipeline.core.scoring import REASON_BUDGET, RULE_SCORER, ScoredDay, score_day
from reminder_pipeline.core.segments import segment_customers
from reminder_pipeline.ledger.history import load_contacts, load_history
from reminder_pipeline.ledger.model_registry import ModelVersion, active_version, save_version, version_for
from reminder_pipeline.ledger.risk import read_scores, write_scores, write_segments
from reminder_pipeline.ledger.store import Ledger


def features_by_day(ledger: Ledger, days: list[date]) -> Iterator[tuple[date, pl.DataFrame]]:
    """Every invoice open on each day with its customer's features as known that day (the history read once)."""
    with ledger.begin() as connection:
        history = load_history(connection)
    for day in days:
        yield day, scoring_features(history, day)


def load_model(version: ModelVersion | None) -> tuple[RiskModel | None, str]:
    """The version's model, or None with the reason it cannot be used."""
    if version is None:
        return None, "no model trained on or before this day"
    if not version.intact:
        return None, f"model {version.version} is corrupt (checksum mismatch)"
    try:
        return RiskModel.from_text(version.bundle), ""
    except Exception as exc:
        return None, f"model {version.version} cannot be loaded ({type(exc).__name__})"


@dataclass(frozen=True)
class Training:
    version: str
    as_of: date
    candidate: Candidate
    status: str | None
    """How the ledger keeps it (in use, or rejected by the quality gate); None when nothing was trained."""


def train_and_register(
    ledger: Ledger,
    as_of: date,
    *,
    run_id: str,
    lookback_days: int = 730,
    validation_days: int = 60,
    exclude: list[str] | None = None,
) -> Training:
    """Train a candidate as of ``as_of`` against the version in use and the rule score, and keep it in the
    registry: promoted when it passes the quality gate, else stored as rejected."""
    with ledger.begin() as connection:
        history = load_history(connection)
        current, _ = load_model(active_version(connection))
    candidate = train_candidate(
        history,
        as_of,
        lookback_days=lookback_days,
        validation_days=validation_days,
        exclude=exclude or [],
        current=current,
    )
    # the training day, the time, and the run: two trainings in the same second stay two versions
    version = f"{as_of.isoformat()}-{datetime.now(UTC):%H%M%S}-{run_id[:6]}"
    status = None
    if candidate.model is not None:
        with ledger.begin() as connection:
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
    return Training(version, as_of, candidate, status)


@dataclass(frozen=True)
class DayRisk:
    day: date
    scored: ScoredDay
    drift: dict[str, float]
    """Population stability of the score and key features against the model's reference (empty: rule score)."""
    fallback: str
    """Why the rule score stood in for a model (empty when a model scored the day)."""


def score_and_record_day(
    ledger: Ledger,
    features: pl.DataFrame,
    day: date,
    segmentation: Segmentation,
    *,
    reason_budget: int = REASON_BUDGET,
) -> DayRisk:
    """Score the day's open invoices with the newest version trained on or before it (never one that
    learned from the day's future), or the rule score when there is none; keep the scores, with the
    model's reasons for those within ``reason_budget`` rows × trees (``core.scoring.REASON_BUDGET``)."""
    with ledger.begin() as connection:
        version = version_for(connection, day)
    model, fallback = load_model(version)
    label = version.version if (version is not None and model is not None) else RULE_SCORER
    scored = score_day(features, day, segmentation.risk_bands, model, label, reason_budget=reason_budget)
    with ledger.begin() as connection:
        write_scores(connection, day, scored.customers, scored.invoices, scored.scorer)
    p_late = scored.invoices["p_late"].to_numpy()
    drift = population_drift(version.reference, features, p_late) if version is not None and model else {}
    return DayRisk(day, scored, drift, fallback)


def segment_and_record_day(
    ledger: Ledger, open_invoices: pl.DataFrame, day: date, segmentation: Segmentation, policy_version: str
) -> pl.DataFrame:
    """Risk band × aging × value tier × reachable channel per customer scored on the day; kept in the ledger."""
    with ledger.begin() as connection:
        contacts = load_contacts(connection)
        scores = read_scores(connection, day)
    segments = segment_customers(scores, open_invoices, contacts, segmentation, day)
    with ledger.begin() as connection:
        write_segments(connection, day, segments, policy_version)
    return segments
