"""The risk model: a LightGBM classifier and a LightGBM median days-late head, stacked and calibrated.

The classifier boosts from a prior (``prior.py``): the customer's own chance of a delay. Its trees
only learn corrections to it, held monotone where more of a feature can only mean more risk. The
stacker is a logistic regression over the classifier's margin and the predicted days late, fitted
with a prior on the most recent held-out invoices (``calibration.py``): it calibrates P(late) to
the late share, and lets the magnitude of lateness, which the binary label throws away,
count. The blend is one more such regression, over the model's and the rule score's log-odds;
``scorer`` says which of the two ``p_late`` gives, as the quality gate decided on invoices the
model never saw. Models of format 2 stacked the rule score and had no prior, format 3 had no blend
and no days-late band; both still load and score as before.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from reminder_pipeline.core.model.calibration import logit, sigmoid
from reminder_pipeline.core.model.prior import PRIOR_FEATURE, Prior
from reminder_pipeline.core.model.rules import rule_p_late

if TYPE_CHECKING:
    import lightgbm as lgb

MODEL_FORMAT = 4
READABLE_FORMATS = (2, 3, 4)
__all__ = ["MODEL_FORMAT", "PRIOR_FEATURE", "Prior", "RiskModel", "Scorer", "feature_matrix"]


class Scorer(StrEnum):
    """Which score the product uses: the model, the rule score, or a blend of both."""

    MODEL = "model"
    RULE = "rule"
    BLEND = "blend"


def feature_matrix(frame: pl.DataFrame, features: list[str], categories: dict[str, list[str]]) -> np.ndarray:
    """Features as a float matrix; a categorical feature becomes its training code, unseen values missing."""
    columns = []
    for name in features:
        if name in categories:
            codes = {value: float(i) for i, value in enumerate(categories[name])}
            column = frame[name].cast(pl.String).replace_strict(codes, default=None, return_dtype=pl.Float64)
        else:
            column = frame[name].cast(pl.Float64)
        columns.append(column.fill_nan(None).to_numpy())
    if not columns:
        return np.empty((frame.height, 0))
    return np.column_stack(columns).astype(float)


@dataclass
class RiskModel:
    features: list[str]
    categorical: list[str]
    categories: dict[str, list[str]]
    classifier: lgb.Booster
    stacker: tuple[float, ...]
    """Weights of (classifier margin, predicted days late) and the intercept; format 2 also weighed the rule logit."""
    days_late: lgb.Booster
    rounds: dict[str, int] = field(default_factory=dict)
    prior: Prior | None = None
    blend: tuple[float, float, float] | None = None
    """Weights of (model log-odds, rule log-odds) and the intercept, fitted on the held-out invoices."""
    scorer: Scorer = Scorer.MODEL
    """What ``p_late`` gives: the model, or the blend."""
    days_late_band: tuple[float, float] = (0.0, 0.0)
    """Residual quantiles (10 %, 90 %) of the days-late head on held-out settled invoices: its 80 % interval."""

    def matrix(self, frame: pl.DataFrame) -> np.ndarray:
        return feature_matrix(frame, self.features, self.categories)

    def _margin(self, x: np.ndarray, frame: pl.DataFrame) -> np.ndarray:
        boosted = np.asarray(self.classifier.predict(x, raw_score=True), dtype=float)
        return boosted + self.prior.margin(frame) if self.prior is not None else boosted

    def raw_margin(self, frame: pl.DataFrame) -> np.ndarray:
        return self._margin(self.matrix(frame), frame)

    def p_model(self, frame: pl.DataFrame) -> np.ndarray:
        """The stacked, calibrated model alone."""
        x = self.matrix(frame)
        return self._stacked(x, np.asarray(self.days_late.predict(x), dtype=float), frame)

    def _stacked(self, x: np.ndarray, days: np.ndarray, frame: pl.DataFrame) -> np.ndarray:
        inputs = [self._margin(x, frame), days]
        if len(self.stacker) == 4:
            inputs.append(logit(rule_p_late(frame, self.features).to_numpy()))
        weights, intercept = np.asarray(self.stacker[:-1]), self.stacker[-1]
        return sigmoid(np.column_stack(inputs) @ weights + intercept)

    def p_rule(self, frame: pl.DataFrame) -> np.ndarray:
        """The rule score, seeing only the model's features (an excluded column counts for neither)."""
        return rule_p_late(frame, self.features).to_numpy()

    def p_blend(self, frame: pl.DataFrame) -> np.ndarray:
        """The model and the rule score blended; the model alone when no blend was fitted."""
        return self._blended(self.p_model(frame), frame)

    def _blended(self, p_model: np.ndarray, frame: pl.DataFrame) -> np.ndarray:
        if self.blend is None:
            return p_model
        w_model, w_rule, intercept = self.blend
        return sigmoid(w_model * logit(p_model) + w_rule * logit(self.p_rule(frame)) + intercept)

    def p_late(self, frame: pl.DataFrame) -> np.ndarray:
        return self.scores(frame)[0]

    def scores(self, frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """``p_late`` and ``expected_days_late`` of each row, from one feature matrix and one pass of the
        days-late head (the stacker reads it too)."""
        x = self.matrix(frame)
        days = np.asarray(self.days_late.predict(x), dtype=float)
        p_model = self._stacked(x, days, frame)
        return (self._blended(p_model, frame) if self.scorer is Scorer.BLEND else p_model), days

    def using(self, scorer: Scorer) -> RiskModel:
        """The same model giving the model's or the blend's P(late)."""
        if scorer is Scorer.RULE:
            raise ValueError("the rule score is not a model's: keep the model in use or fall back to the rule")
        return replace(self, scorer=scorer)

    def expected_days_late(self, frame: pl.DataFrame) -> np.ndarray:
        return np.asarray(self.days_late.predict(self.matrix(frame)), dtype=float)

    def days_late_interval(self, frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """An 80 % interval around the expected days late (split-conformal, from held-out residuals)."""
        expected = self.expected_days_late(frame)
        low, high = self.days_late_band
        return expected + low, expected + high

    def contributions(self, frame: pl.DataFrame) -> np.ndarray:
        """Per-feature contributions to the raw margin (LightGBM ``pred_contrib``), bias column dropped.

        The prior's margin, relative to its mean over the training examples, counts for its feature."""
        values = np.asarray(self.classifier.predict(self.matrix(frame), pred_contrib=True), dtype=float)[:, :-1]
        if self.prior is not None:
            for name, push in self.prior.contributions(frame).items():
                values[:, self.features.index(name)] += push
        return values

    def importance(self) -> pl.DataFrame:
        gain = self.classifier.feature_importance(importance_type="gain").astype(float)
        if self.prior is not None:
            gain[self.features.index(self.prior.feature)] += self.prior.gain
        return pl.DataFrame({"feature": self.features, "gain": gain.astype(float)}).sort("gain", descending=True)

    def to_text(self) -> str:
        """Everything needed to score, as one JSON text (boosters in LightGBM's own model format)."""
        return json.dumps(
            {
                "format": MODEL_FORMAT,
                "features": self.features,
                "categorical": self.categorical,
                "categories": self.categories,
                "stacker": list(self.stacker),
                "rounds": self.rounds,
                "classifier": base64.b64encode(self.classifier.model_to_string().encode()).decode(),
                "days_late": base64.b64encode(self.days_late.model_to_string().encode()).decode(),
                "prior": asdict(self.prior) if self.prior is not None else None,
                "blend": list(self.blend) if self.blend is not None else None,
                "scorer": self.scorer.value,
                "days_late_band": list(self.days_late_band),
            }
        )

    @classmethod
    def from_text(cls, text: str) -> RiskModel:
        import lightgbm as lgb  # here, not at the top: loading the code location should not cost its seconds

        data = json.loads(text)
        if data.get("format") not in READABLE_FORMATS:
            raise ValueError(f"unknown model format {data.get('format')!r}")
        prior, blend = data.get("prior"), data.get("blend")
        low, high = data.get("days_late_band", (0.0, 0.0))
        return cls(
            features=list(data["features"]),
            categorical=list(data["categorical"]),
            categories={k: list(v) for k, v in data["categories"].items()},
            classifier=lgb.Booster(model_str=base64.b64decode(data["classifier"]).decode()),
            stacker=tuple(float(w) for w in data["stacker"]),
            days_late=lgb.Booster(model_str=base64.b64decode(data["days_late"]).decode()),
            rounds={k: int(v) for k, v in data["rounds"].items()},
            prior=Prior(**{**prior, "terms": tuple(tuple(t) for t in prior.get("terms", ()))}) if prior else None,
            blend=(float(blend[0]), float(blend[1]), float(blend[2])) if blend else None,
            scorer=Scorer(data.get("scorer", Scorer.MODEL.value)),
            days_late_band=(float(low), float(high)),
        )
