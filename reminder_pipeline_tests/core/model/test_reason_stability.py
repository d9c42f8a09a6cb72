"""Reasons that hold: a collector shown "paid 75% of earlier invoices late" today should not read another
story tomorrow because an amount moved by a cent or a delay by a fraction of a day."""

from __future__ import annotations

import numpy as np
import polars as pl

from reminder_pipeline.core.features.build import training_examples
from reminder_pipeline.core.features.catalogue import BY_NAME, select_features
from reminder_pipeline.core.model.explain import top_reasons
from reminder_pipeline.core.model.fitting import fit_risk_model
from reminder_pipeline.ingestion.history_file import load_history_file
from reminder_pipeline_tests.core.model.histories.cadences import BY_NAME as HISTORIES
from reminder_pipeline_tests.core.model.histories.cadences import path_of

NUDGE = 0.01
"""Every numeric feature moved by up to 1 % of itself, at random."""


def test_reasons_stay_the_same_under_small_changes_of_the_input() -> None:
    cadence = HISTORIES["monthly_statements"]
    history = load_history_file(path_of(cadence)).history
    examples = training_examples(history, history.last_day())  # type: ignore[arg-type]
    model = fit_risk_model(examples.filter(pl.col("issue_date") < cadence.split), select_features([]))
    scored = examples.filter(pl.col("issue_date") >= cadence.split)
    rng = np.random.default_rng(5)
    numeric = [n for n in model.features if not BY_NAME[n].categorical]
    nudged = scored.with_columns(
        (pl.col(n).cast(pl.Float64) * pl.Series(1.0 + rng.uniform(-NUDGE, NUDGE, scored.height))).alias(n)
        for n in numeric
    )
    before = top_reasons(scored, model.features, model.contributions(scored)).to_list()
    after = top_reasons(nudged, model.features, model.contributions(nudged)).to_list()
    with_reasons = [i for i, r in enumerate(before) if r]
    assert len(with_reasons) > scored.height / 4, "most risky invoices have reasons to show"
    same_first = np.mean([_themes(before[i][:1]) == _themes(after[i][:1]) for i in with_reasons])
    same_themes = np.mean([_themes(before[i]) == _themes(after[i]) for i in with_reasons])
    assert same_first >= 0.95, same_first
    assert same_themes >= 0.9, same_themes
    np.testing.assert_allclose(model.p_late(nudged), model.p_late(scored), atol=0.05)


def _themes(reasons: list[str]) -> set[str]:
    """The reasons without their numbers (a nudged amount may read 2.1× instead of 2.0×)."""
    return {"".join(ch for ch in reason if not ch.isdigit()) for reason in reasons}
