"""The quality gate: a candidate no worse than the rule score and the model in use, on the same invoices."""

from __future__ import annotations

import pytest

from reminder_pipeline.core.model.training import AUC_TOLERANCE, BRIER_TOLERANCE, quality_gate


def _m(auc: float, brier: float = 0.15) -> dict[str, float]:
    return {"auc": auc, "brier": brier}


def test_a_candidate_below_the_rule_score_is_refused() -> None:
    passed, verdict = quality_gate({"candidate": _m(0.70), "rule": _m(0.72), "current": None})
    assert not passed
    assert "rule score" in verdict


def test_the_first_model_needs_only_to_beat_the_rule_score() -> None:
    assert quality_gate({"candidate": _m(0.80), "rule": _m(0.72), "current": None})[0]


@pytest.mark.parametrize(
    ("candidate", "passes"),
    [
        (_m(0.80 - AUC_TOLERANCE / 2), True),
        (_m(0.80 - 2 * AUC_TOLERANCE), False),
        (_m(0.81, 0.15 + BRIER_TOLERANCE / 2), True),
        (_m(0.81, 0.15 + 2 * BRIER_TOLERANCE), False),
    ],
)
def test_a_candidate_noticeably_worse_than_the_model_in_use_is_refused(
    candidate: dict[str, float], passes: bool
) -> None:
    passed, verdict = quality_gate({"candidate": candidate, "rule": _m(0.70), "current": _m(0.80, 0.15)})
    assert passed is passes, verdict
    if not passes:
        assert "current model" in verdict
