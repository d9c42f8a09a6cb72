"""Population stability: has what we score drifted away from what the model was trained on?"""

from __future__ import annotations

import numpy as np

BINS = 10
EPSILON = 1e-4
RETRAIN_PSI = 0.25


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
