"""The risk model: a LightGBM classifier and a LightGBM median days-late head, stacked and calibrated.

The classifier boosts from a prior: the customer's own chance of a delay, read from the mean and
spread of their earlier delays (``hist_p_late_expected``) and Platt-scaled on the training
examples. Its trees only learn corrections to it (open overdue invoices, amounts, region, ...),
held monotone where more of a feature can only mean more risk; early stopping decides how many
corrections the data supports. On a few thousand invoices, trees asked to rebuild a smooth
per-customer estimate step by step add more noise than they remove.

Training is time-ordered: the last ``valid_share`` of the examples stops the boosting early and
fits the stacker; the final boosters are then refitted on all examples for the rounds found.
The stacker is a logistic regression over two out-of-time inputs — the classifier's margin and
the predicted days late — so it both calibrates P(late) (like Platt scaling) and lets the
magnitude of lateness, which the binary label throws away, count. Models of format 2 also
stacked the rule score; the prior and the features already carry what it knows, and its
unregularised weight on a fifth of the examples cost accuracy on every time split tried. They
still load and score as before, their rule score seeing only the model's features.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl
from sklearn.linear_model import LogisticRegression

from reminder_pipeline.core.features.catalogue import Feature
from reminder_pipeline.core.model.rules import rule_p_late

MIN_FIT_EXAMPLES = 50
"""Fewer invoices to learn from, or only one outcome among them, and no model is fitted."""
DAYS_LATE_CLIP = (-60.0, 365.0)
MODEL_FORMAT = 3
READABLE_FORMATS = (2, 3)
"""Format 2 has no prior; it still loads and scores as it did."""
PRIOR_FEATURE = "hist_p_late_expected"


def _logit(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, 1e-4, 1 - 1e-4)
    return np.asarray(np.log(clipped / (1 - clipped)), dtype=float)


@dataclass(frozen=True)
class Prior:
    """The classifier's starting margin: ``slope * logit(feature) + intercept``."""

    feature: str
    slope: float
    intercept: float
    mean: float
    """Mean margin over the training examples: contributions are told relative to it."""
    gain: float = 0.0
    """Training loss it removes against the late share alone, on LightGBM's gain scale (twice the log-loss)."""

    def margin(self, frame: pl.DataFrame) -> np.ndarray:
        p = frame[self.feature].cast(pl.Float64).fill_nan(None).fill_null(0.5).to_numpy()
        return self.slope * _logit(p) + self.intercept


def _fit_prior(examples: pl.DataFrame, late: np.ndarray, names: list[str], split: int) -> Prior | None:
    """Platt scaling of the prior feature on the head of the examples (the tail stays out of sample)."""
    if PRIOR_FEATURE not in names or len(np.unique(late[:split])) < 2:
        return None
    raw = Prior(PRIOR_FEATURE, 1.0, 0.0, 0.0).margin(examples)
    platt = LogisticRegression(C=1e3).fit(raw[:split, None], late[:split])
    slope, intercept = float(platt.coef_[0][0]), float(platt.intercept_[0])
    margin = slope * raw + intercept
    p = 1.0 / (1.0 + np.exp(-margin))
    share = float(np.clip(late.mean(), 1e-6, 1 - 1e-6))
    alone = -(late * np.log(share) + (1 - late) * np.log(1 - share)).sum()
    with_prior = -(late * np.log(np.clip(p, 1e-12, None)) + (1 - late) * np.log(np.clip(1 - p, 1e-12, None))).sum()
    return Prior(PRIOR_FEATURE, slope, intercept, float(margin.mean()), float(2.0 * (alone - with_prior)))


def _stack_inputs(margin: np.ndarray, days_late: np.ndarray) -> np.ndarray:
    return np.column_stack([margin, days_late])


def _legacy_stack_inputs(
    margin: np.ndarray, days_late: np.ndarray, frame: pl.DataFrame, features: list[str]
) -> np.ndarray:
    """Format 2: the rule score was a third input."""
    return np.column_stack([margin, days_late, _logit(rule_p_late(frame, features).to_numpy())])


@dataclass(frozen=True)
class ModelConfig:
    num_leaves: int = 15
    learning_rate: float = 0.03
    min_data_in_leaf: int = 20
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    lambda_l2: float = 1.0
    max_rounds: int = 2000
    early_stopping_rounds: int = 150
    valid_share: float = 0.2
    refit: bool = True
    seed: int = 7
    threads: int = 2
    monotone: bool = True
    prior: bool = True

    def params(self, objective: str, **extra: Any) -> dict[str, Any]:
        return {
            "objective": objective,
            "num_leaves": self.num_leaves,
            "learning_rate": self.learning_rate,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": 1,
            "lambda_l2": self.lambda_l2,
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.threads,
            "verbosity": -1,
            **extra,
        }


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

    def matrix(self, frame: pl.DataFrame) -> np.ndarray:
        return feature_matrix(frame, self.features, self.categories)

    def _margin(self, x: np.ndarray, frame: pl.DataFrame) -> np.ndarray:
        boosted = np.asarray(self.classifier.predict(x, raw_score=True), dtype=float)
        return boosted + self.prior.margin(frame) if self.prior is not None else boosted

    def raw_margin(self, frame: pl.DataFrame) -> np.ndarray:
        return self._margin(self.matrix(frame), frame)

    def p_late(self, frame: pl.DataFrame) -> np.ndarray:
        x = self.matrix(frame)
        days = np.asarray(self.days_late.predict(x), dtype=float)
        margin = self._margin(x, frame)
        legacy = len(self.stacker) == 4
        inputs = _legacy_stack_inputs(margin, days, frame, self.features) if legacy else _stack_inputs(margin, days)
        weights, intercept = np.asarray(self.stacker[:-1]), self.stacker[-1]
        return np.asarray(1.0 / (1.0 + np.exp(-(inputs @ weights + intercept))), dtype=float)

    def expected_days_late(self, frame: pl.DataFrame) -> np.ndarray:
        return np.asarray(self.days_late.predict(self.matrix(frame)), dtype=float)

    def contributions(self, frame: pl.DataFrame) -> np.ndarray:
        """Per-feature contributions to the raw margin (LightGBM ``pred_contrib``), bias column dropped.

        The prior's margin, relative to its mean over the training examples, counts for its feature."""
        values = np.asarray(self.classifier.predict(self.matrix(frame), pred_contrib=True), dtype=float)[:, :-1]
        if self.prior is not None:
            values[:, self.features.index(self.prior.feature)] += self.prior.margin(frame) - self.prior.mean
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
            }
        )

    @classmethod
    def from_text(cls, text: str) -> RiskModel:
        data = json.loads(text)
        if data.get("format") not in READABLE_FORMATS:
            raise ValueError(f"unknown model format {data.get('format')!r}")
        prior = data.get("prior")
        return cls(
            features=list(data["features"]),
            categorical=list(data["categorical"]),
            categories={k: list(v) for k, v in data["categories"].items()},
            classifier=lgb.Booster(model_str=base64.b64decode(data["classifier"]).decode()),
            stacker=tuple(float(w) for w in data["stacker"]),
            days_late=lgb.Booster(model_str=base64.b64decode(data["days_late"]).decode()),
            rounds={k: int(v) for k, v in data["rounds"].items()},
            prior=Prior(**prior) if prior else None,
        )


def _categories(frame: pl.DataFrame, features: list[Feature]) -> dict[str, list[str]]:
    return {
        f.name: sorted(v for v in frame[f.name].cast(pl.String).unique().to_list() if v is not None)
        for f in features
        if f.categorical
    }


@dataclass(frozen=True)
class _Fitted:
    probe: lgb.Booster
    """Trained on the head of the examples, early-stopped on the tail."""
    final: lgb.Booster
    """Refitted on every example for the probe's number of rounds, scaled to the larger data."""
    rounds: int


def _train(
    params: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    categorical: list[int],
    config: ModelConfig,
    split: int,
    weight: np.ndarray | None = None,
    init: np.ndarray | None = None,
) -> _Fitted:
    def part(values: np.ndarray | None, rows: slice) -> np.ndarray | None:
        return values[rows] if values is not None else None

    head, tail = slice(None, split), slice(split, None)
    train = lgb.Dataset(
        x[head],
        y[head],
        weight=part(weight, head),
        init_score=part(init, head),
        categorical_feature=categorical,
        free_raw_data=False,
    )
    valid = lgb.Dataset(
        x[tail],
        y[tail],
        weight=part(weight, tail),
        init_score=part(init, tail),
        categorical_feature=categorical,
        reference=train,
    )
    probe = lgb.train(
        params,
        train,
        num_boost_round=config.max_rounds,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)],
    )
    rounds = max(1, probe.best_iteration or config.max_rounds)
    if not config.refit:
        return _Fitted(probe, probe, rounds)
    grown = max(1, round(rounds * len(x) / max(1, split)))
    final = lgb.train(
        params,
        lgb.Dataset(x, y, weight=weight, init_score=init, categorical_feature=categorical),
        num_boost_round=grown,
    )
    return _Fitted(probe, final, rounds)


def fit_risk_model(examples: pl.DataFrame, features: list[Feature], config: ModelConfig | None = None) -> RiskModel:
    """Fit on ``examples`` (time-ordered, with ``late`` and ``days_late``) using ``features``."""
    config = config or ModelConfig()
    if examples.height < MIN_FIT_EXAMPLES or examples["late"].n_unique() < 2:
        raise ValueError(f"too few examples to train on ({examples.height}; both late and on-time ones are needed)")
    names = [f.name for f in features]
    categorical_names = [f.name for f in features if f.categorical]
    categories = _categories(examples, features)
    x = feature_matrix(examples, names, categories)
    late = examples["late"].cast(pl.Int8).to_numpy()
    days = examples["days_late"].cast(pl.Float64).clip(*DAYS_LATE_CLIP).to_numpy()
    categorical = [names.index(name) for name in categorical_names]
    split = int(len(x) * (1 - config.valid_share))
    weight = examples["weight"].cast(pl.Float64).to_numpy() if "weight" in examples.columns else None
    shape = {"monotone_constraints": [f.monotone for f in features]} if config.monotone else {}
    prior = _fit_prior(examples, late, names, split) if config.prior else None
    init = prior.margin(examples) if prior is not None else None
    classifier = _train(
        config.params("binary", metric="binary_logloss", **shape), x, late, categorical, config, split, weight, init
    )
    days_late = _train(
        config.params("quantile", alpha=0.5, metric="quantile"), x, days, categorical, config, split, weight
    )
    tail = x[split:]
    margin = np.asarray(classifier.probe.predict(tail, raw_score=True), dtype=float)
    if init is not None:
        margin = margin + init[split:]
    held_out = _stack_inputs(margin, np.asarray(days_late.probe.predict(tail), dtype=float))
    stacker = LogisticRegression(C=1e3).fit(held_out, late[split:])
    return RiskModel(
        features=names,
        categorical=categorical_names,
        categories=categories,
        classifier=classifier.final,
        stacker=(*(float(w) for w in stacker.coef_[0]), float(stacker.intercept_[0])),
        days_late=days_late.final,
        rounds={"classifier": classifier.rounds, "days_late": days_late.rounds},
        prior=prior,
    )
