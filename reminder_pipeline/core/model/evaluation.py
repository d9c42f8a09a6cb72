"""Leak-free, time-based evaluation of the risk model on any invoice history.

As the weekly retraining does, the quality gate decides between model, rule score and blend on a
validation window that lies after the candidate's training window and before the test; the model
is then refitted on every training invoice with the same recipe (its calibration on the most
recent of them), and the scorer the gate chose is measured on the test beside the others.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

from reminder_pipeline.core.features.build import training_examples
from reminder_pipeline.core.features.catalogue import select_features
from reminder_pipeline.core.history import History
from reminder_pipeline.core.model.fitting import MIN_FIT_EXAMPLES, ModelConfig, fit_risk_model
from reminder_pipeline.core.model.metrics import calibration_table, classification_metrics
from reminder_pipeline.core.model.risk_model import RiskModel, Scorer
from reminder_pipeline.core.model.rules import rule_days_late
from reminder_pipeline.core.model.selection import Selection, measured, scores, select_scorer

VALIDATION_DAYS = 90
MAX_VALIDATION_SHARE = 1 / 3
"""The validation window: the last 90 days of training issue dates, but never more than a third of them."""
MIN_VALIDATION = 50
FIGURES = ("auc", "pr_auc", "brier", "ece")


def validation_start(train: pl.DataFrame, split_date: date) -> date:
    by_days = split_date - timedelta(days=VALIDATION_DAYS)
    issued = train["issue_date"].sort()
    by_share = issued[int(len(issued) * (1 - MAX_VALIDATION_SHARE))]
    return max(by_days, by_share)


def gate(
    train: pl.DataFrame, split_date: date, features: list[Any], config: ModelConfig | None
) -> tuple[Selection | None, dict[str, Any]]:
    """The quality gate's choice on the validation window, and what it was decided on."""
    start = validation_start(train, split_date)
    fit = train.filter(pl.col("issue_date") < start)
    validation = train.filter(pl.col("issue_date") >= start)
    window = {"validation_from": start.isoformat(), "n_fit": fit.height, "n_validation": validation.height}
    if (
        validation.height < MIN_VALIDATION
        or validation["late"].n_unique() < 2
        or fit.height < MIN_FIT_EXAMPLES
        or fit["late"].n_unique() < 2
    ):
        return None, window | {"verdict": "too few invoices to validate on: the model is used unvalidated"}
    selection = select_scorer(fit_risk_model(fit, features, config), validation)
    return selection, window | {"verdict": selection.verdict, "validation": _rounded(selection.metrics)}


def _rounded(metrics: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {name: {k: float(m[k]) for k in (*FIGURES, "base_rate", "n")} for name, m in metrics.items()}


def days_late_figures(model: RiskModel, test: pl.DataFrame) -> dict[str, float | int]:
    """The expected-days-late head on settled test invoices: mean absolute error and the 80 % interval's coverage,
    with ``rule_mae``: the error of the rule score's days late (the customer's usual delay), used without a model."""
    settled = test.filter(pl.col("settled"))
    if settled.is_empty():
        return {"n": 0}
    actual = settled["days_late"].cast(pl.Float64).to_numpy()
    low, high = model.days_late_interval(settled)
    error = np.abs(model.expected_days_late(settled) - actual)
    return {
        "n": settled.height,
        "mae": float(error.mean()),
        "median_ae": float(np.median(error)),
        "rule_mae": float(np.mean(np.abs(rule_days_late(settled).to_numpy() - actual))),
        "interval_coverage": float(np.mean((actual >= low) & (actual <= high))),
        "interval_target": 0.8,
        "interval_width": float(np.mean(high - low)),
    }


def evaluate_history(
    history: History, split_date: date, exclude: list[str] | None = None, config: ModelConfig | None = None
) -> dict[str, Any]:
    """Train on invoices issued before ``split_date``, test on the rest.

    Late = paid after the due date, or still open and overdue at the end of the data. Features
    of every invoice are computed as of its issue date from the whole history, which by
    construction uses nothing dated after that day.
    """
    end = history.last_day()
    if end is None:
        raise ValueError("the history holds no invoices")
    features = select_features(exclude or [])
    examples = training_examples(history, end)
    train = examples.filter(pl.col("issue_date") < split_date)
    test = examples.filter(pl.col("issue_date") >= split_date)
    if train.is_empty() or test.is_empty():
        raise ValueError(f"the split {split_date} leaves {train.height} training and {test.height} test invoices")
    selection, decided = gate(train, split_date, features, config)
    scorer = selection.scorer if selection is not None else Scorer.MODEL
    model = fit_risk_model(train, features, config)
    late = test["late"].cast(pl.Int8).to_numpy()
    by_scorer = scores(model, test)
    on_test = measured(late, by_scorer)
    chosen = on_test[scorer.value]
    days_error = np.abs(model.expected_days_late(test) - test["days_late"].to_numpy())
    return {
        "auc": chosen["auc"],
        "pr_auc": chosen["pr_auc"],
        "brier": chosen["brier"],
        "ece": chosen["ece"],
        "n_train": train.height,
        "n_test": test.height,
        "base_rate": chosen["base_rate"],
        "train_base_rate": float(np.mean(train["late"].cast(pl.Float64).to_numpy())),
        "scorer": scorer.value,
        "gate": decided,
        **{name: {k: m[k] for k in FIGURES} for name, m in on_test.items()},
        "split_date": split_date.isoformat(),
        "end_of_data": end.isoformat(),
        "excluded": sorted(exclude or []),
        "features": [f.name for f in features],
        "rule_baseline": {k: on_test[Scorer.RULE.value][k] for k in ("auc", "pr_auc", "brier")},
        "days_late_mae": float(days_error.mean()),
        "days_late": days_late_figures(model, test),
        "boosting_rounds": model.rounds,
        "calibration": calibration_table(late, by_scorer[scorer]).to_dicts(),
        "top_features": model.importance().head(10).to_dicts(),
    }


__all__ = ["classification_metrics", "evaluate_history", "gate", "validation_start"]
