"""Calibration on recent outcomes: Platt scaling with a prior, and weights that let older invoices count less.

When the late share moves, probabilities learned over a long window are off by the difference
between the old and the new share. Fitting the last step — a logistic regression of the outcome on
the model's log-odds (and whatever else is stacked) — on the most recent outcomes, each weighted
by how recent it is, moves them back. On a few hundred recent invoices an unregularised fit
overreacts, so the coefficients are pulled towards a prior: the uncalibrated score taken as it
is (slope 1, nothing else stacked, no intercept), with the strength of ``PRIOR_STRENGTH`` invoices.
"""

from __future__ import annotations

import numpy as np

HALF_LIFE_DAYS = 365.0
"""An invoice a year older than the newest one counts half as much in training and calibration."""
PRIOR_STRENGTH = 20.0
"""Invoices' worth of belief in the prior coefficients (an L2 pull towards them)."""


def recency_weights(days: np.ndarray, half_life_days: float = HALF_LIFE_DAYS) -> np.ndarray:
    """``0.5 ** (age / half-life)``, age in days before the newest of ``days`` (day numbers)."""
    if days.size == 0:
        return np.ones(0)
    age = (days.max() - days).astype(float)
    return np.asarray(np.power(0.5, age / half_life_days), dtype=float)


def day_numbers(values: np.ndarray) -> np.ndarray:
    """Dates (numpy ``datetime64`` or Python dates) as day numbers."""
    return np.asarray(values, dtype="datetime64[D]").astype(np.int64)


def logit(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(np.asarray(p, dtype=float), 1e-4, 1 - 1e-4)
    return np.asarray(np.log(clipped / (1 - clipped)), dtype=float)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -35.0, 35.0))), dtype=float)


def fit_platt(
    inputs: np.ndarray,
    late: np.ndarray,
    *,
    weight: np.ndarray | None = None,
    prior: np.ndarray | None = None,
    strength: float = PRIOR_STRENGTH,
) -> np.ndarray:
    """Coefficients ``(w_1 .. w_k, intercept)`` of ``P(late) = sigmoid(inputs @ w + intercept)``.

    Weighted log-loss plus ``strength / 2 * |coefficients - prior|^2`` (the intercept included), with
    weights normalised to sum to the number of examples, so ``strength`` is counted in invoices.
    ``prior`` defaults to slope 1 on the first input and 0 elsewhere.
    """
    x = np.column_stack([np.asarray(inputs, dtype=float), np.ones(len(late))])
    y = np.asarray(late, dtype=float)
    w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)
    w = w * (len(y) / max(w.sum(), 1e-12))
    centre = np.zeros(x.shape[1]) if prior is None else np.asarray(prior, dtype=float)
    if prior is None:
        centre[0] = 1.0

    def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ beta
        # log(1 + e^z) - y z, written to stay finite for large |z|
        value = float(np.sum(w * (np.logaddexp(0.0, z) - y * z)) + 0.5 * strength * np.sum((beta - centre) ** 2))
        gradient = x.T @ (w * (sigmoid(z) - y)) + strength * (beta - centre)
        return value, gradient

    from scipy.optimize import minimize  # here, not at the top: only a training needs scipy

    found = minimize(loss, centre.copy(), jac=True, method="L-BFGS-B")
    return np.asarray(found.x, dtype=float)


def expected_calibration_error(late: np.ndarray, p_late: np.ndarray, bins: int = 10) -> float:
    """Mean gap between predicted and observed late share over equal-width bands, weighted by invoices."""
    if len(late) == 0:
        return float("nan")
    band = np.clip((np.asarray(p_late, dtype=float) * bins).astype(int), 0, bins - 1)
    total = 0.0
    for b in np.unique(band):
        mask = band == b
        total += mask.sum() * abs(float(np.mean(p_late[mask])) - float(np.mean(late[mask])))
    return total / len(late)
