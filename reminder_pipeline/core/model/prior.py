"""The classifier's starting point: a small logistic regression on what a collector would look at.

Its main input is the customer's own chance of a delay (``hist_p_late_expected``, from the mean and
spread of their earlier delays); beside it, where the features are there, the share of earlier
invoices that turned out late (shrunk towards 30 % when there are few, as the rule score does), how
the last few went against that share (the trajectory), whether other invoices are overdue now and
how much. Settled
delays only tell of invoices that were paid: a customer whose invoices pile up unpaid shows in the
late share and the overdue ones first. Fitted on the head of the training examples, recency
weighted, it is the margin the trees boost from, so they only learn corrections to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from reminder_pipeline.core.model.calibration import fit_platt, logit

PRIOR_FEATURE = "hist_p_late_expected"
SHRINK_RATE, SHRINK_WEIGHT = 0.3, 3.0


def _column(frame: pl.DataFrame, name: str, default: float) -> np.ndarray:
    return np.asarray(frame[name].cast(pl.Float64).fill_nan(None).fill_null(default).to_numpy(), dtype=float)


def _shrunk_late_rate(frame: pl.DataFrame) -> np.ndarray:
    resolved = _column(frame, "hist_resolved", 0.0) if "hist_resolved" in frame.columns else 0.0
    rate = _column(frame, "hist_late_rate", SHRINK_RATE)
    return np.asarray((rate * resolved + SHRINK_RATE * SHRINK_WEIGHT) / (resolved + SHRINK_WEIGHT), dtype=float)


def _trajectory(frame: pl.DataFrame) -> np.ndarray:
    recent = frame["hist_recent_late_rate"].cast(pl.Float64).fill_nan(None).to_numpy()
    overall = _shrunk_late_rate(frame)
    return np.asarray(np.where(np.isnan(recent), 0.0, recent - overall), dtype=float)


TERMS: dict[str, Callable[[pl.DataFrame], np.ndarray]] = {
    "hist_late_rate": lambda f: logit(_shrunk_late_rate(f)),
    "hist_recent_late_rate": _trajectory,
    "other_overdue_invoices": lambda f: (_column(f, "other_overdue_invoices", 0.0) > 0).astype(float),
    "overdue_amount_ratio": lambda f: np.log1p(np.clip(_column(f, "overdue_amount_ratio", 0.0), 0.0, None)),
}
"""Each extra input, by the feature it is read from (and counted for in the reasons)."""


@dataclass(frozen=True)
class Prior:
    """The classifier's starting margin: ``slope * logit(feature) + sum(weight * term) + intercept``."""

    feature: str
    slope: float
    intercept: float
    mean: float
    """Mean of ``slope * logit(feature) + intercept`` over the training examples: contributions are told
    relative to it."""
    gain: float = 0.0
    """Training loss it removes against the late share alone, on LightGBM's gain scale (twice the log-loss)."""
    terms: tuple[tuple[str, float, float], ...] = ()
    """``(feature, weight, mean)`` of each extra input; models before format 4 have none."""

    def _main(self, frame: pl.DataFrame) -> np.ndarray:
        return self.slope * logit(_column(frame, self.feature, 0.5)) + self.intercept

    def margin(self, frame: pl.DataFrame) -> np.ndarray:
        margin = self._main(frame)
        for name, weight, _ in self.terms:
            margin = margin + weight * TERMS[name](frame)
        return np.asarray(margin, dtype=float)

    def contributions(self, frame: pl.DataFrame) -> dict[str, np.ndarray]:
        """Each input's push on the margin, relative to its mean over the training examples."""
        found = {self.feature: self._main(frame) - self.mean}
        for name, weight, mean in self.terms:
            found[name] = weight * (TERMS[name](frame) - mean)
        return found


def fit_prior(
    examples: pl.DataFrame, late: np.ndarray, names: list[str], split: int, weight: np.ndarray | None = None
) -> Prior | None:
    """The prior's coefficients on the head of the examples (the tail stays out of sample)."""
    if PRIOR_FEATURE not in names or len(np.unique(late[:split])) < 2:
        return None
    main = logit(_column(examples, PRIOR_FEATURE, 0.5))
    used = [name for name in TERMS if name in names and (name != "hist_late_rate" or "hist_resolved" in names)]
    inputs = np.column_stack([main, *(TERMS[name](examples) for name in used)])
    head_weight = weight[:split] if weight is not None else None
    coefficients = fit_platt(inputs[:split], late[:split], weight=head_weight, strength=1.0)
    slope, intercept = float(coefficients[0]), float(coefficients[-1])
    margin = inputs @ coefficients[:-1] + intercept
    p = 1.0 / (1.0 + np.exp(-margin))
    share = float(np.clip(late.mean(), 1e-6, 1 - 1e-6))
    alone = -(late * np.log(share) + (1 - late) * np.log(1 - share)).sum()
    with_prior = -(late * np.log(np.clip(p, 1e-12, None)) + (1 - late) * np.log(np.clip(1 - p, 1e-12, None))).sum()
    weights = coefficients[1:-1]
    terms = tuple((name, float(weights[i]), float(np.mean(inputs[:, i + 1]))) for i, name in enumerate(used))
    return Prior(
        PRIOR_FEATURE,
        slope,
        intercept,
        float(np.mean(slope * main + intercept)),
        float(2.0 * (alone - with_prior)),
        terms,
    )
