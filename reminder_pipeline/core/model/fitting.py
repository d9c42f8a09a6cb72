"""Fitting a risk model on time-ordered examples.

The last ``valid_share`` of the examples (the most recent) stops the boosting early and is where
the stacker, the blend with the rule score and the days-late interval are fitted, all out of
sample for the boosters that scored them; the final boosters are then refitted on every example
for the rounds found. Every example is weighted by its recency (``calibration.recency_weights``),
so that when the late share moves the model leans to what happened lately.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from reminder_pipeline.core.features.catalogue import Feature
from reminder_pipeline.core.model.calibration import (
    HALF_LIFE_DAYS,
    PRIOR_STRENGTH,
    day_numbers,
    fit_platt,
    logit,
    recency_weights,
    sigmoid,
)
from reminder_pipeline.core.model.prior import fit_prior
from reminder_pipeline.core.model.risk_model import RiskModel, feature_matrix
from reminder_pipeline.core.model.rules import rule_p_late

if TYPE_CHECKING:
    import lightgbm as lgb

MIN_FIT_EXAMPLES = 50
"""Fewer invoices to learn from, or only one outcome among them, and no model is fitted."""
DAYS_LATE_CLIP = (-60.0, 365.0)
DAYS_LATE_BAND = (0.1, 0.9)
ONE_THREAD_BELOW = 50_000
"""On a few thousand invoices a second OpenMP thread costs more than it brings, and on a shared two-core
machine its spinning waits cost several times the work itself (the results are the same either way)."""


@dataclass(frozen=True)
class ModelConfig:
    num_leaves: int = 15
    learning_rate: float = 0.03
    days_late_learning_rate: float = 0.08
    min_data_in_leaf: int = 20
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    lambda_l2: float = 1.0
    max_rounds: int = 2000
    early_stopping_rounds: int = 150
    """The classifier's patience: rounds without a better validation loss before boosting stops."""
    valid_share: float = 0.2
    refit: bool = True
    seed: int = 7
    threads: int | None = None
    """LightGBM's threads; None: one below ``ONE_THREAD_BELOW`` examples, else two."""
    monotone: bool = True
    prior: bool = True
    half_life_days: float | None = HALF_LIFE_DAYS
    """Recency weighting of the examples; None weighs them all alike."""
    calibration_half_life_days: float | None = 90.0
    """Recency weighting of the held-out invoices the stacker and the blend are fitted on: calibration
    follows the late share of the last months."""

    @property
    def days_late_patience(self) -> int:
        """The days-late head's patience: the classifier's over the same distance of learning (its rate is
        higher), so that it stops as soon after its best round, not 150 rounds of a faster learner later."""
        return max(10, round(self.early_stopping_rounds * self.learning_rate / self.days_late_learning_rate))

    def params(self, objective: str, rows: int = 0, **extra: Any) -> dict[str, Any]:
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
            "num_threads": self.threads or (1 if rows < ONE_THREAD_BELOW else 2),
            "verbosity": -1,
            **extra,
        }


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
    weight: np.ndarray,
    init: np.ndarray | None = None,
    *,
    patience: int,
) -> _Fitted:
    import lightgbm as lgb  # here, not at the top: loading the code location should not cost its seconds

    def part(values: np.ndarray | None, rows: slice) -> np.ndarray | None:
        return values[rows] if values is not None else None

    head, tail = slice(None, split), slice(split, None)
    train = lgb.Dataset(
        x[head],
        y[head],
        weight=weight[head],
        init_score=part(init, head),
        categorical_feature=categorical,
        free_raw_data=False,
    )
    valid = lgb.Dataset(
        x[tail],
        y[tail],
        weight=weight[tail],
        init_score=part(init, tail),
        categorical_feature=categorical,
        reference=train,
    )
    probe = lgb.train(
        params,
        train,
        num_boost_round=config.max_rounds,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(patience, verbose=False)],
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


def _weights(examples: pl.DataFrame, config: ModelConfig) -> np.ndarray:
    given = examples["weight"].cast(pl.Float64).to_numpy() if "weight" in examples.columns else np.ones(examples.height)
    if config.half_life_days is None:
        return np.asarray(given, dtype=float)
    return np.asarray(given * recency_weights(day_numbers(examples["issue_date"].to_numpy()), config.half_life_days))


def _calibration_weights(tail: pl.DataFrame, config: ModelConfig) -> np.ndarray:
    if config.calibration_half_life_days is None:
        return np.ones(tail.height)
    return recency_weights(day_numbers(tail["issue_date"].to_numpy()), config.calibration_half_life_days)


def _days_late_band(residuals: np.ndarray) -> tuple[float, float]:
    if residuals.size < 10:
        return 0.0, 0.0
    low, high = np.quantile(residuals, DAYS_LATE_BAND)
    return float(low), float(high)


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
    weight = _weights(examples, config)
    shape = {"monotone_constraints": [f.monotone for f in features]} if config.monotone else {}
    prior = fit_prior(examples, late, names, split, weight) if config.prior else None
    init = prior.margin(examples) if prior is not None else None
    classifier_params = config.params("binary", len(x), metric="binary_logloss", **shape)
    classifier = _train(
        classifier_params, x, late, categorical, config, split, weight, init, patience=config.early_stopping_rounds
    )
    days_params = config.params(
        "quantile", len(x), alpha=0.5, metric="quantile", learning_rate=config.days_late_learning_rate
    )
    days_late = _train(days_params, x, days, categorical, config, split, weight, patience=config.days_late_patience)
    tail, tail_late = x[split:], late[split:]
    tail_weight = _calibration_weights(examples[split:], config)
    margin = np.asarray(classifier.probe.predict(tail, raw_score=True), dtype=float)
    if init is not None:
        margin = margin + init[split:]
    tail_days = np.asarray(days_late.probe.predict(tail), dtype=float)
    stacker = fit_platt(np.column_stack([margin, tail_days]), tail_late, weight=tail_weight)
    p_model = sigmoid(np.column_stack([margin, tail_days, np.ones(len(margin))]) @ stacker)
    rule = logit(rule_p_late(examples[split:], names).to_numpy())
    blend = fit_platt(np.column_stack([logit(p_model), rule]), tail_late, weight=tail_weight, strength=PRIOR_STRENGTH)
    settled = examples["settled"].to_numpy()[split:] if "settled" in examples.columns else np.ones(len(tail), bool)
    return RiskModel(
        features=names,
        categorical=categorical_names,
        categories=categories,
        classifier=classifier.final,
        stacker=tuple(float(w) for w in stacker),
        days_late=days_late.final,
        rounds={"classifier": classifier.rounds, "days_late": days_late.rounds},
        prior=prior,
        blend=(float(blend[0]), float(blend[1]), float(blend[2])),
        days_late_band=_days_late_band((days[split:] - tail_days)[settled.astype(bool)]),
    )
