"""Population stability: has what we score drifted away from what the model scored when it was trained?

The reference is the population the check compares: the invoices open on the training day,
with their features as of that day and the new model's P(late) for them. The invoices the model
learned from are another population (features as of issue, outcomes known), so comparing a day's
open invoices with them would raise an alarm that says nothing about drift.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

BINS = 10
EPSILON = 1e-4
RETRAIN_PSI = 0.25
DRIFT_FEATURES = ("hist_late_rate", "amount_log", "other_overdue_invoices", "tenure_days")
OPEN_INVOICES = "open_invoices_on_training_day"
"""The population a reference describes; references without it were taken from the training set."""


def reference_bins(values: np.ndarray, bins: int = BINS) -> dict[str, list[float]]:
    """Quantile edges of the training values and the share of values in each bin (missing values dropped)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"edges": [], "fractions": []}
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1))[1:-1])
    counts = np.bincount(np.searchsorted(edges, finite, side="right"), minlength=len(edges) + 1)
    return {"edges": edges.tolist(), "fractions": (counts / counts.sum()).tolist()}


def psi(reference: dict[str, list[float]], values: np.ndarray) -> float | None:
    """Population stability index of ``values`` against a reference; None when either side is empty."""
    finite = values[np.isfinite(values)]
    if not reference.get("fractions") or finite.size == 0:
        return None
    edges = np.asarray(reference["edges"])
    expected = np.asarray(reference["fractions"]) + EPSILON
    counts = np.bincount(np.searchsorted(edges, finite, side="right"), minlength=len(edges) + 1)
    actual = counts / counts.sum() + EPSILON
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def _values(features: pl.DataFrame, name: str) -> np.ndarray:
    return features[name].cast(pl.Float64).fill_null(np.nan).to_numpy()


def drift_reference(open_invoices: pl.DataFrame, p_late: np.ndarray) -> dict[str, Any]:
    """The reference of the drift check: the invoices open on the training day and the model's P(late) for them."""
    return {
        "population": OPEN_INVOICES,
        "p_late": reference_bins(p_late),
        **{name: reference_bins(_values(open_invoices, name)) for name in DRIFT_FEATURES},
    }


def population_drift(reference: dict[str, Any], open_invoices: pl.DataFrame, p_late: np.ndarray) -> dict[str, float]:
    """PSI of the day's P(late) and key features against the reference; empty when the reference does not
    describe open invoices (a model stored before references did: retrain it to compare again)."""
    if reference.get("population") != OPEN_INVOICES:
        return {}
    found = {"p_late": psi(reference.get("p_late", {}), p_late)}
    for name in DRIFT_FEATURES:
        if name in open_invoices.columns:
            found[name] = psi(reference.get(name, {}), _values(open_invoices, name))
    return {k: round(v, 4) for k, v in found.items() if v is not None}
