from __future__ import annotations

import itertools

import numpy as np
import polars as pl

from reminder_pipeline.core.model.calibration import expected_calibration_error

CALIBRATION_BINS = 10


def classification_metrics(late: np.ndarray, p_late: np.ndarray) -> dict[str, float]:
    """AUC, PR-AUC, Brier score, expected calibration error and the base rate; AUC and PR-AUC are NaN with
    one class only."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score  # seconds to import

    late = late.astype(int)
    both_classes = 0 < late.sum() < len(late)
    return {
        "auc": float(roc_auc_score(late, p_late)) if both_classes else float("nan"),
        "pr_auc": float(average_precision_score(late, p_late)) if both_classes else float("nan"),
        "brier": float(brier_score_loss(late, p_late)) if len(late) else float("nan"),
        "ece": expected_calibration_error(late, p_late, CALIBRATION_BINS),
        "base_rate": float(late.mean()) if len(late) else float("nan"),
        "n": len(late),
    }


def calibration_table(late: np.ndarray, p_late: np.ndarray, bins: int = CALIBRATION_BINS) -> pl.DataFrame:
    """Per band of predicted probability: how many, the mean prediction and the observed late share."""
    frame = pl.DataFrame({"p": p_late.astype(float), "late": late.astype(float)})
    edges = np.linspace(0.0, 1.0, bins + 1)
    labels = [f"{lo:.1f}-{hi:.1f}" for lo, hi in itertools.pairwise(edges)]
    band = (frame["p"].to_numpy() * bins).clip(0, bins - 1).astype(int)
    return (
        frame.with_columns(pl.Series("band", np.array(labels)[band]))
        .group_by("band")
        .agg(pl.len().alias("invoices"), pl.col("p").mean().alias("predicted"), pl.col("late").mean().alias("observed"))
        .sort("band")
    )
