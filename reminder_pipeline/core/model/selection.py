"""Model, rule score or blend: decided on invoices the model never saw.

The validation invoices lie after everything the candidate learned from and before what it will
score. On them the candidate's own P(late), the rule score and the blend of the two are measured
alike; the model is used only where it ranks at least as well as the rule score (AUC) and its
probabilities are no worse (Brier score: not worse by more than the standard error of the paired
difference, the noise of a few hundred invoices), and the blend only where it is at least as good
as both. Otherwise the rule score, transparent and needing no training, stays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from reminder_pipeline.core.model.metrics import classification_metrics
from reminder_pipeline.core.model.risk_model import RiskModel, Scorer


@dataclass(frozen=True)
class Selection:
    scorer: Scorer
    verdict: str
    metrics: dict[str, dict[str, float]]
    """Per scorer (``model``, ``rule``, ``blend``): its figures on the validation invoices."""


def scores(model: RiskModel, frame: pl.DataFrame) -> dict[Scorer, np.ndarray]:
    """P(late) of ``frame`` by each scorer (the rule score seeing only the model's features)."""
    return {Scorer.MODEL: model.p_model(frame), Scorer.RULE: model.p_rule(frame), Scorer.BLEND: model.p_blend(frame)}


def measured(late: np.ndarray, by_scorer: dict[Scorer, np.ndarray]) -> dict[str, dict[str, float]]:
    """Each scorer's figures, with ``brier_se_vs_rule``: the standard error of its paired Brier difference."""
    squared = {scorer: (p - late) ** 2 for scorer, p in by_scorer.items()}
    found = {}
    for scorer, p in by_scorer.items():
        difference = squared[scorer] - squared[Scorer.RULE]
        se = float(np.std(difference, ddof=1) / np.sqrt(len(late))) if len(late) > 1 else 0.0
        found[scorer.value] = classification_metrics(late, p) | {"brier_se_vs_rule": se}
    return found


def _at_least_as_good(a: dict[str, float], b: dict[str, float], noise: float = 0.0) -> bool:
    return bool(a["auc"] >= b["auc"] and a["brier"] <= b["brier"] + noise)


def choose(metrics: dict[str, dict[str, float]]) -> tuple[Scorer, str]:
    """The scorer to use given each one's figures on the same validation invoices, and why."""
    model, rule, blend = metrics[Scorer.MODEL], metrics[Scorer.RULE], metrics[Scorer.BLEND]

    def figures(name: str, m: dict[str, float]) -> str:
        return f"{name} AUC {m['auc']:.3f}, Brier {m['brier']:.3f}"

    against = f"against the rule score's AUC {rule['auc']:.3f}, Brier {rule['brier']:.3f}"
    model_holds = _at_least_as_good(model, rule, model["brier_se_vs_rule"])
    blend_holds = _at_least_as_good(blend, rule, blend["brier_se_vs_rule"])
    if blend_holds and _at_least_as_good(blend, model) and blend != model:
        return Scorer.BLEND, f"the blend beats both: {figures('blend', blend)}, {figures('model', model)}, {against}"
    if model_holds:
        return Scorer.MODEL, f"the model is at least as good as the rule score: {figures('model', model)}, {against}"
    if blend_holds:
        return Scorer.BLEND, f"only the blend holds against the rule score: {figures('blend', blend)}, {against}"
    return Scorer.RULE, f"the rule score stays: {figures('model', model)}, {figures('blend', blend)}, {against}"


def select_scorer(model: RiskModel, validation: pl.DataFrame) -> Selection:
    """Measure model, rule score and blend on ``validation`` (with ``late``) and choose."""
    late = validation["late"].cast(pl.Int8).to_numpy()
    metrics = measured(late, scores(model, validation))
    scorer, verdict = choose(metrics)
    return Selection(scorer, verdict, metrics)
