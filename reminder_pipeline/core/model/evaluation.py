"""Leak-free, time-based evaluation of the risk model on any invoice history."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import polars as pl

from reminder_pipeline.core.features.build import training_examples
from reminder_pipeline.core.features.catalogue import select_features
from reminder_pipeline.core.history import History
from reminder_pipeline.core.model.metrics import calibration_table, classification_metrics
from reminder_pipeline.core.model.risk_model import ModelConfig, fit_risk_model
from reminder_pipeline.core.model.rules import rule_p_late


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
    model = fit_risk_model(train, features, config)
    p_late = model.p_late(test)
    late = test["late"].cast(pl.Int8).to_numpy()
    metrics = classification_metrics(late, p_late)
    rule = classification_metrics(late, rule_p_late(test, model.features).to_numpy())
    days_error = np.abs(model.expected_days_late(test) - test["days_late"].to_numpy())
    return {
        "auc": metrics["auc"],
        "pr_auc": metrics["pr_auc"],
        "brier": metrics["brier"],
        "n_train": train.height,
        "n_test": test.height,
        "base_rate": metrics["base_rate"],
        "train_base_rate": float(np.mean(train["late"].cast(pl.Float64).to_numpy())),
        "split_date": split_date.isoformat(),
        "end_of_data": end.isoformat(),
        "excluded": sorted(exclude or []),
        "features": [f.name for f in features],
        "rule_baseline": {k: rule[k] for k in ("auc", "pr_auc", "brier")},
        "days_late_mae": float(days_error.mean()),
        "boosting_rounds": model.rounds,
        "calibration": calibration_table(late, p_late).to_dicts(),
        "top_features": model.importance().head(10).to_dicts(),
    }
