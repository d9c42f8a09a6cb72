"""Train a candidate risk model as of a day and decide whether it may replace the current one.

Examples are invoices due in the lookback window whose outcome is known on the training day.
The most recent ``validation_days`` of due dates are held out: the candidate, its blend with the
rule score, the model in use and the rule score are all measured on exactly those invoices. The
candidate gives the model's or the blend's P(late), whichever the selection chose
(``selection.py``); it is refused when the rule score is better, or when it is noticeably worse
than the model in use. Outcomes of invoices due after the training day are not known yet, so
they are never used, not even when already paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

from reminder_pipeline.core.features.build import examples_for, labelled_invoices, scoring_features
from reminder_pipeline.core.features.catalogue import select_features
from reminder_pipeline.core.history import History
from reminder_pipeline.core.model.drift import drift_reference
from reminder_pipeline.core.model.fitting import MIN_FIT_EXAMPLES, ModelConfig, fit_risk_model
from reminder_pipeline.core.model.metrics import calibration_table, classification_metrics
from reminder_pipeline.core.model.risk_model import RiskModel, Scorer
from reminder_pipeline.core.model.selection import select_scorer

AUC_TOLERANCE = 0.005
BRIER_TOLERANCE = 0.005
MIN_VALIDATION = 50
MAX_FIT_EXAMPLES = 300_000
MAX_VALIDATION_EXAMPLES = 100_000
SAMPLE_SEED = 20
"""Larger histories are sampled uniformly over the window (every season stays represented):
on two cores more rows cost minutes and add little."""


@dataclass(frozen=True)
class Candidate:
    model: RiskModel | None
    window: tuple[date, date]
    metrics: dict[str, dict[str, float] | None]
    passed: bool
    verdict: str
    calibration: pl.DataFrame
    reference: dict[str, Any]
    n_fit: int
    n_validation: int
    validation: pl.DataFrame
    """``invoice_id, customer_id, late, p_late`` of the held-out invoices (empty when nothing was trained)."""


def _sample(frame: pl.DataFrame, at_most: int) -> pl.DataFrame:
    return frame if frame.height <= at_most else frame.sample(n=at_most, seed=SAMPLE_SEED)


def _metrics(late: np.ndarray, p_late: np.ndarray) -> dict[str, float]:
    return {k: float(v) for k, v in classification_metrics(late, p_late).items()}


def quality_gate(metrics: dict[str, dict[str, float] | None]) -> tuple[bool, str]:
    """Whether a candidate may be used, and why: never below the rule score's AUC, never noticeably worse
    than the model in use (AUC or Brier), all measured on the same validation invoices."""
    candidate, rule, current = metrics["candidate"], metrics["rule"], metrics["current"]
    assert candidate is not None
    assert rule is not None
    if candidate["auc"] < rule["auc"]:
        return False, f"AUC {candidate['auc']:.3f} is below the rule score's {rule['auc']:.3f}"
    if current is not None and candidate["auc"] < current["auc"] - AUC_TOLERANCE:
        return False, f"AUC {candidate['auc']:.3f} is below the current model's {current['auc']:.3f}"
    if current is not None and candidate["brier"] > current["brier"] + BRIER_TOLERANCE:
        return False, f"Brier {candidate['brier']:.3f} is worse than the current model's {current['brier']:.3f}"
    return True, "not worse than the current model or the rule score on the same validation invoices"


def train_candidate(
    history: History,
    as_of: date,
    *,
    lookback_days: int = 730,
    validation_days: int = 60,
    exclude: list[str] | None = None,
    current: RiskModel | None = None,
    config: ModelConfig | None = None,
    max_fit_examples: int = MAX_FIT_EXAMPLES,
) -> Candidate:
    window = (as_of - timedelta(days=lookback_days), as_of)
    known = history.known_on(as_of)
    labelled = labelled_invoices(known, as_of).filter(
        (pl.col("issue_date") >= window[0]) & (pl.col("due_date") < as_of)
    )
    cut = as_of - timedelta(days=validation_days)
    fit_ids = _sample(labelled.filter(pl.col("due_date") < cut), max_fit_examples)
    validation_ids = _sample(labelled.filter(pl.col("due_date") >= cut), MAX_VALIDATION_EXAMPLES)
    examples = examples_for(known, pl.concat([fit_ids, validation_ids]))
    fit = examples.join(fit_ids.select("invoice_id"), on="invoice_id", how="semi").sort("due_date", "invoice_id")
    validation = examples.join(validation_ids.select("invoice_id"), on="invoice_id", how="semi")
    late = validation["late"].cast(pl.Int8).to_numpy()
    empty = pl.DataFrame()
    if validation.height < MIN_VALIDATION or len(np.unique(late)) < 2:
        verdict = f"only {validation.height} validation invoices with both outcomes; keeping the model in use"
    elif fit.height < MIN_FIT_EXAMPLES or fit["late"].n_unique() < 2:
        verdict = f"only {fit.height} invoices to learn from with both outcomes; keeping the model in use"
    else:
        verdict = ""
    if verdict:
        return Candidate(
            None,
            window,
            {"candidate": None, "current": None, "rule": None},
            False,
            verdict,
            empty,
            {},
            fit.height,
            validation.height,
            empty,
        )
    fitted = fit_risk_model(fit, select_features(exclude or []), config)
    selection = select_scorer(fitted, validation)
    model = fitted.using(Scorer.MODEL if selection.scorer is Scorer.RULE else selection.scorer)
    p_candidate = model.p_late(validation)
    metrics: dict[str, dict[str, float] | None] = {
        "candidate": _metrics(late, p_candidate),
        "rule": selection.metrics[Scorer.RULE.value],
        "model": selection.metrics[Scorer.MODEL.value],
        "blend": selection.metrics[Scorer.BLEND.value],
        "current": None,
    }
    if current is not None and set(current.features) <= set(validation.columns):
        metrics["current"] = _metrics(late, current.p_late(validation))
    passed, verdict = quality_gate(metrics)
    if passed and selection.scorer is Scorer.RULE:
        passed, verdict = False, selection.verdict
    elif passed:
        verdict = f"{verdict}; {selection.verdict}"
    open_invoices = scoring_features(known, as_of)
    reference = drift_reference(open_invoices, model.p_late(open_invoices) if open_invoices.height else np.array([]))
    held_out = validation.select("invoice_id", "customer_id", "late").with_columns(pl.Series("p_late", p_candidate))
    return Candidate(
        model,
        window,
        metrics,
        passed,
        verdict,
        calibration_table(late, p_candidate),
        reference,
        fit.height,
        validation.height,
        held_out,
    )
