"""Calibration on recent outcomes, and the choice between model, rule score and blend."""

from __future__ import annotations

import numpy as np
import pytest

from reminder_pipeline.core.model.calibration import (
    expected_calibration_error,
    fit_platt,
    logit,
    recency_weights,
    sigmoid,
)
from reminder_pipeline.core.model.risk_model import Scorer
from reminder_pipeline.core.model.selection import choose


def _m(auc: float, brier: float, se: float = 0.0) -> dict[str, float]:
    return {"auc": auc, "brier": brier, "brier_se_vs_rule": se}


def test_the_blend_is_used_only_where_it_beats_both() -> None:
    assert choose({"model": _m(0.80, 0.15), "rule": _m(0.78, 0.16), "blend": _m(0.81, 0.14)})[0] is Scorer.BLEND
    assert choose({"model": _m(0.80, 0.15), "rule": _m(0.78, 0.16), "blend": _m(0.79, 0.14)})[0] is Scorer.MODEL


def test_the_rule_score_stays_when_it_ranks_better_or_its_probabilities_are_clearly_better() -> None:
    ranks_better = {"model": _m(0.78, 0.15), "rule": _m(0.79, 0.16), "blend": _m(0.785, 0.15)}
    scorer, verdict = choose(ranks_better)
    assert scorer is Scorer.RULE
    assert "rule score stays" in verdict
    off_probabilities = {"model": _m(0.80, 0.17, 0.002), "rule": _m(0.78, 0.16), "blend": _m(0.80, 0.17, 0.002)}
    assert choose(off_probabilities)[0] is Scorer.RULE


def test_a_brier_score_worse_only_by_noise_does_not_keep_a_better_ranking_model_out() -> None:
    within_noise = {"model": _m(0.80, 0.161, 0.002), "rule": _m(0.78, 0.160), "blend": _m(0.79, 0.161, 0.002)}
    assert choose(within_noise)[0] is Scorer.MODEL


def test_only_a_blend_that_holds_against_the_rule_score_replaces_it() -> None:
    metrics = {"model": _m(0.77, 0.15), "rule": _m(0.78, 0.16), "blend": _m(0.785, 0.155)}
    assert choose(metrics)[0] is Scorer.BLEND


def test_recent_invoices_weigh_more() -> None:
    weights = recency_weights(np.array([0, 365, 730]), half_life_days=365)
    np.testing.assert_allclose(weights, [0.25, 0.5, 1.0])


def test_platt_scaling_on_recent_outcomes_follows_a_moving_late_share() -> None:
    """Scores learned at a 15 % late share, outcomes now at 25 %: refitted, the probabilities follow."""
    rng = np.random.default_rng(3)
    signal = rng.normal(0, 1.5, 4000)
    old = sigmoid(signal + logit(np.array(0.15)))
    late = rng.random(4000) < sigmoid(signal + logit(np.array(0.25)))
    coefficients = fit_platt(logit(old)[:, None], late)
    recalibrated = sigmoid(logit(old) * coefficients[0] + coefficients[1])
    assert abs(recalibrated.mean() - late.mean()) < 0.01
    assert expected_calibration_error(late, recalibrated) < expected_calibration_error(late, old) / 2
    assert np.mean((recalibrated - late) ** 2) < np.mean((old - late) ** 2)


def test_the_prior_holds_a_few_outcomes_back() -> None:
    """On ten invoices an unregularised fit would swing far; the prior keeps it near the score as it is."""
    p = np.linspace(0.1, 0.9, 10)
    late = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    weak = fit_platt(logit(p)[:, None], late, strength=1e-3)
    held = fit_platt(logit(p)[:, None], late, strength=20.0)
    assert abs(held[0] - 1.0) < abs(weak[0] - 1.0)
    assert abs(held[1]) < abs(weak[1])


@pytest.mark.parametrize(("p", "expected"), [(np.array([0.1, 0.1, 0.9, 0.9]), 0.1), (np.array([0.5] * 4), 0.0)])
def test_expected_calibration_error(p: np.ndarray, expected: float) -> None:
    assert expected_calibration_error(np.array([0, 0, 1, 1]) if expected else np.array([0, 1, 0, 1]), p) == (
        pytest.approx(expected)
    )
