from __future__ import annotations

import numpy as np
import polars as pl

from reminder_pipeline.core.model.drift import psi, reference_bins
from reminder_pipeline.core.model.explain import top_reasons


def test_reasons_name_the_strongest_pushes_once_per_theme_in_words() -> None:
    frame = pl.DataFrame(
        {
            "hist_late_rate": [0.75, 0.1],
            "hist_mean_days_late": [12.4, -3.0],
            "hist_median_days_late": [11.0, -2.0],
            "amount_ratio": [2.04, 1.0],
            "region": ["N", "S"],
        }
    )
    names = ["hist_late_rate", "hist_mean_days_late", "hist_median_days_late", "amount_ratio", "region"]
    contributions = np.array([[0.9, 0.6, 0.7, 0.2, 0.01], [-0.5, -0.2, -0.1, 0.0, 0.3]])
    reasons = top_reasons(frame, names, contributions).to_list()
    assert reasons[0] == [
        "paid 75% of earlier invoices late",
        "typically pays 11 days after the due date",
        "2.0× the customer's usual invoice",
    ]
    assert reasons[1] == ["in a region that pays later"]


def test_no_reasons_without_a_positive_push() -> None:
    frame = pl.DataFrame({"hist_late_rate": [0.1]})
    assert top_reasons(frame, ["hist_late_rate"], np.array([[-1.0]])).to_list() == [[]]


def test_population_stability() -> None:
    rng = np.random.default_rng(1)
    reference = reference_bins(rng.normal(0, 1, 5000))
    same = psi(reference, rng.normal(0, 1, 5000))
    shifted = psi(reference, rng.normal(1.5, 1, 5000))
    assert same is not None
    assert same < 0.05
    assert shifted is not None
    assert shifted > 0.25
    assert psi(reference, np.array([np.nan])) is None
