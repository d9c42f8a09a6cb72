from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from reminder_pipeline.config_files import load_mapping
from reminder_pipeline.core.features.build import training_examples
from reminder_pipeline.core.features.catalogue import select_features
from reminder_pipeline.core.model.evaluation import evaluate_history
from reminder_pipeline.core.model.fitting import ModelConfig, fit_risk_model
from reminder_pipeline.core.model.metrics import classification_metrics
from reminder_pipeline.core.model.risk_model import RiskModel, Scorer
from reminder_pipeline.core.model.rules import rule_p_late
from reminder_pipeline.ingestion.history_file import load_history_file

SPLIT = date(2013, 7, 1)


@pytest.fixture(scope="module")
def ibm(ibm_csv: Path, ibm_mapping: Path):  # type: ignore[no-untyped-def]
    return load_history_file(ibm_csv, load_mapping(ibm_mapping)).history


def test_the_model_beats_the_reference_on_the_ibm_sample(ibm) -> None:  # type: ignore[no-untyped-def]
    """Reference figures (shared/data/README): ~0.84 from invoice history alone, 0.90-0.92 with disputes."""
    without = evaluate_history(ibm, SPLIT, ["disputed"])
    with_disputes = evaluate_history(ibm, SPLIT, [])
    assert (without["n_train"], without["n_test"]) == (1930, 536)
    assert without["auc"] >= 0.87
    assert with_disputes["auc"] >= 0.90
    assert without["auc"] > without["rule_baseline"]["auc"]
    assert without["brier"] < 0.2
    assert "disputed_now" not in without["features"]


def test_a_model_survives_its_text_form(ibm) -> None:  # type: ignore[no-untyped-def]
    examples = training_examples(ibm, date(2013, 12, 31))
    model = fit_risk_model(examples.filter(pl.col("issue_date") < SPLIT), select_features(["disputed"]))
    test = examples.filter(pl.col("issue_date") >= SPLIT)
    again = RiskModel.from_text(model.using(Scorer.BLEND).to_text())
    assert again.scorer is Scorer.BLEND
    assert (again.blend, again.days_late_band, again.prior) == (model.blend, model.days_late_band, model.prior)
    np.testing.assert_allclose(again.p_late(test), model.p_blend(test))
    np.testing.assert_allclose(again.p_model(test), model.p_late(test))
    np.testing.assert_allclose(again.expected_days_late(test), model.expected_days_late(test))
    p = model.p_late(test)
    assert ((p > 0) & (p < 1)).all()
    metrics = classification_metrics(test["late"].to_numpy(), p)
    assert abs(float(p.mean()) - metrics["base_rate"]) < 0.1, "calibrated probabilities track the late share"


def test_an_excluded_column_reaches_no_part_of_the_model(ibm) -> None:  # type: ignore[no-untyped-def]
    """Not the trees, not the prior, not the rule score: scores ignore what was excluded."""
    examples = training_examples(ibm, date(2013, 12, 31))
    model = fit_risk_model(examples.filter(pl.col("issue_date") < SPLIT), select_features(["disputed"]))
    test = examples.filter(pl.col("issue_date") >= SPLIT)
    disputing = test.with_columns(pl.lit(9.0).alias("disputes_before"), pl.lit(1.0).alias("disputed_now"))
    np.testing.assert_array_equal(model.p_late(disputing), model.p_late(test))


def test_the_model_boosts_from_the_customers_own_chance_of_a_delay(ibm) -> None:  # type: ignore[no-untyped-def]
    examples = training_examples(ibm, date(2013, 12, 31)).filter(pl.col("issue_date") < SPLIT)
    model = fit_risk_model(examples, select_features(["disputed"]))
    assert model.prior is not None
    assert model.prior.slope > 0
    assert model.importance()["feature"][0] == model.prior.feature == "hist_p_late_expected"
    without = fit_risk_model(examples, select_features(["disputed", "paperless_since"]))
    assert without.prior is None, "excluding its source column excludes the prior too"


def test_a_model_of_format_2_still_scores(ibm) -> None:  # type: ignore[no-untyped-def]
    """Stored before the prior: no prior, and the rule score as a third stacked input."""
    examples = training_examples(ibm, date(2013, 12, 31))
    model = fit_risk_model(examples.filter(pl.col("issue_date") < SPLIT), select_features(["disputed"]))
    test = examples.filter(pl.col("issue_date") >= SPLIT)
    stored = json.loads(model.to_text())
    del stored["prior"]
    stored |= {"format": 2, "stacker": [0.5, 0.01, 0.8, -0.2]}
    legacy = RiskModel.from_text(json.dumps(stored))
    assert legacy.prior is None
    margin = legacy.classifier.predict(legacy.matrix(test), raw_score=True)
    rule = rule_p_late(test, legacy.features).to_numpy()
    inputs = 0.5 * margin + 0.01 * legacy.expected_days_late(test) + 0.8 * np.log(rule / (1 - rule)) - 0.2
    np.testing.assert_allclose(legacy.p_late(test), 1 / (1 + np.exp(-inputs)))


def test_corrupt_model_text_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown model format"):
        RiskModel.from_text('{"format": 99}')
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever json or LightGBM raise
        RiskModel.from_text("not json at all")


def test_too_little_history_is_refused(ibm) -> None:  # type: ignore[no-untyped-def]
    examples = training_examples(ibm, date(2013, 12, 31)).head(20)
    with pytest.raises(ValueError, match="too few"):
        fit_risk_model(examples, select_features([]), ModelConfig())


class _ClassifiersPatience(ModelConfig):
    """The days-late head as it was fitted before: waiting as many rounds as the slower classifier."""

    @property
    def days_late_patience(self) -> int:
        return self.early_stopping_rounds


def test_the_days_late_heads_shorter_patience_fits_the_same_model_in_fewer_rounds(ibm) -> None:  # type: ignore[no-untyped-def]
    """Its learning rate is higher, so its patience is the classifier's over the same learning distance (56
    rounds, not 150): the probe stops sooner after its best round, and the model it gives is the same."""
    examples = training_examples(ibm, date(2013, 12, 31)).filter(pl.col("issue_date") < SPLIT)
    features = select_features(["disputed"])
    config = ModelConfig()
    assert config.days_late_patience == 56 < config.early_stopping_rounds
    shorter, longer = (
        fit_risk_model(examples, features, config),
        fit_risk_model(examples, features, _ClassifiersPatience()),
    )
    assert shorter.rounds == longer.rounds
    assert shorter.days_late.model_to_string() == longer.days_late.model_to_string()
    assert shorter.classifier.model_to_string() == longer.classifier.model_to_string()
    assert (shorter.stacker, shorter.blend, shorter.days_late_band) == (
        longer.stacker,
        longer.blend,
        longer.days_late_band,
    )
