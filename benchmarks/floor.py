"""The floor: the daily run's computation as one bare polars + LightGBM script, no orchestration, no database.

It reads the files ``python -m benchmarks.daily_run --stage generate`` writes and does what the daily
run does with them, each stage as plainly as it can be written: the billing history with each
invoice's settlement (``ingest_billing``), the training examples' as-of features and one binary
booster with the product's parameters and a given round count (``train_model``), the day's as-of
features of every open invoice (``features_of_the_day``), P(late) per invoice and the
balance-weighted band per customer (``score``), aging, value tier and channel (``segment``), the
ladder step due per customer (``plan_reminders``) and the text messages with signed links
(``render_messages``). Each stage is timed (wall and CPU seconds); the peak memory of the process is
reported. ``benchmarks.against_floor`` runs it beside the daily run and writes
``benchmarks/results.md``. It imports nothing from the product but the names of the model's features.
"""

import argparse
import json
import resource
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from benchmarks.daily_run import CPU_S, DAY, timed
from benchmarks.floor_features import features_as_of, history_invoices, open_on
from benchmarks.floor_plan import Policy, load_policy, plan, render, segment
from reminder_pipeline.core.features.catalogue import FEATURES

HERE = Path(__file__).resolve().parent
LOOKBACK_DAYS, VALIDATION_DAYS = 730, 60
MAX_FIT, MAX_VALIDATION, SAMPLE_SEED = 300_000, 100_000, 20
HALF_LIFE_DAYS = 365.0
ZERO_DECIMALS = {"JPY"}
"""The generator's currencies without minor units; the others have two."""
NAMES = [f.name for f in FEATURES]
CATEGORICAL = ["region", "payment_method"]
MONOTONE = {
    "hist_late_rate", "hist_recent_late_rate", "hist_mean_days_late", "hist_max_days_late",
    "hist_ewm_days_late", "hist_mean_days_late_same_delivery", "hist_p_late_same_delivery",
    "hist_expected_days_late", "hist_p_late_expected", "hist_lateness_to_terms", "hist_days_to_pay_to_terms",
    "hist_median_days_late", "hist_recent_days_late", "hist_last_days_late", "hist_days_late_z",
    "hist_mean_days_to_pay", "other_overdue_invoices", "overdue_amount_ratio", "disputes_before",
    "disputed_now", "broken_promises",
}  # fmt: skip
"""Features held to raise the risk only (the product's ``monotone=1``)."""
ONE_THREAD_BELOW = 50_000


def params(rows: int) -> dict[str, Any]:
    """The product classifier's LightGBM parameters."""
    return {
        "objective": "binary",
        "num_leaves": 15,
        "learning_rate": 0.03,
        "min_data_in_leaf": 20,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "seed": 7,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1 if rows < ONE_THREAD_BELOW else 2,
        "verbosity": -1,
        "metric": "binary_logloss",
        "monotone_constraints": [1 if name in MONOTONE else 0 for name in NAMES],
    }


@dataclass(frozen=True)
class History:
    customers: pl.DataFrame
    invoices: pl.DataFrame
    """:func:`history_invoices`: each invoice with its settlement and what the features read of it."""
    paid: pl.DataFrame
    """``invoice_id, paid_date, paid_to_date``."""


def _minor(amount: pl.Expr) -> pl.Expr:
    scale = pl.when(pl.col("currency").is_in(sorted(ZERO_DECIMALS))).then(1.0).otherwise(100.0)
    return (amount.cast(pl.Float64) * scale).round(0).cast(pl.Int64).alias("amount_minor")


def load(work: Path) -> History:
    """The exported CSV files, typed, and each invoice's settlement: the first day its payments reach its amount."""
    read = {
        name: pl.read_csv(work / f"{name}.csv", infer_schema_length=0) for name in ("customers", "invoices", "payments")
    }
    flags = ("email_opt_out", "sms_opt_out", "sms_consent")
    customers = read["customers"].with_columns(
        *(pl.col(c) == "true" for c in flags), pl.col("paperless_since").str.to_date()
    )
    invoices = read["invoices"].select(
        "invoice_id",
        "customer_id",
        pl.col("issue_date").str.to_date(),
        pl.col("due_date").str.to_date(),
        _minor(pl.col("amount")),
        "currency",
        (pl.col("disputed") == "true").fill_null(False).alias("has_dispute"),
        pl.col("dispute_date").str.to_date().alias("dispute_opened_on"),
    )
    paid = (
        read["payments"]
        .select("invoice_id", _minor(pl.col("amount")), pl.col("paid_date").str.to_date())
        .group_by("invoice_id", "paid_date")
        .agg(pl.col("amount_minor").sum())
        .sort("invoice_id", "paid_date")
        .select("invoice_id", "paid_date", pl.col("amount_minor").cum_sum().over("invoice_id").alias("paid_to_date"))
    )
    reached = (
        paid.join(invoices.select("invoice_id", "amount_minor"), on="invoice_id")
        .filter(pl.col("paid_to_date") >= pl.col("amount_minor"))
        .group_by("invoice_id")
        .agg(pl.col("paid_date").min().alias("paid_off"))
    )
    invoices = invoices.join(reached, on="invoice_id", how="left").with_columns(
        # an invoice of nothing is settled when issued
        pl.min_horizontal("paid_off", pl.when(pl.col("amount_minor") <= 0).then(pl.col("issue_date"))).alias(
            "settled_date"
        )
    )
    return History(customers, history_invoices(invoices, customers), paid)


def matrix(frame: pl.DataFrame, categories: dict[str, list[str]]) -> np.ndarray:
    """Features as floats; a category as its index among the training values (unseen: missing)."""
    columns = [
        pl.col(n).replace_strict(
            {v: float(i) for i, v in enumerate(categories[n])}, default=None, return_dtype=pl.Float64
        )
        if n in categories
        else pl.col(n).cast(pl.Float64).fill_nan(None)
        for n in NAMES
    ]
    return frame.select(columns).to_numpy().astype(float)


@dataclass(frozen=True)
class Model:
    booster: lgb.Booster
    categories: dict[str, list[str]]
    auc: float
    fit_rows: int
    validation_rows: int


def train(history: History, day: date, rounds: int) -> Model:
    """One booster on the invoices due in the two years before ``day`` whose outcome is known, features as of
    their issue date, recency-weighted; AUC on those due in the last 60 days (held out)."""
    invoices = history.invoices
    settled = pl.when(pl.col("settled_date") <= day).then(pl.col("settled_date"))
    days_late = (pl.coalesce(settled, pl.lit(day)) - pl.col("due_date")).dt.total_days()
    in_window = (pl.col("issue_date") >= day - timedelta(days=LOOKBACK_DAYS)) & (pl.col("due_date") < day)
    labelled = invoices.filter(in_window).select("invoice_id", "due_date", (days_late > 0).alias("target"))
    cut = day - timedelta(days=VALIDATION_DAYS)
    fit_ids = labelled.filter(pl.col("due_date") < cut)
    held_ids = labelled.filter(pl.col("due_date") >= cut)
    fit_ids = fit_ids.sample(MAX_FIT, seed=SAMPLE_SEED) if fit_ids.height > MAX_FIT else fit_ids
    held_ids = held_ids.sample(MAX_VALIDATION, seed=SAMPLE_SEED) if held_ids.height > MAX_VALIDATION else held_ids
    chosen = pl.concat([fit_ids, held_ids]).select("invoice_id", "target")
    queries = chosen.join(invoices.select("invoice_id", pl.col("issue_date").alias("as_of")), on="invoice_id")
    examples = features_as_of(history.invoices, history.customers, history.paid, queries).join(chosen, on="invoice_id")
    fit = examples.filter(pl.col("due_date") < cut).sort("due_date", "invoice_id")
    held = examples.filter(pl.col("due_date") >= cut)
    categories = {n: sorted(v for v in fit[n].unique().to_list() if v is not None) for n in CATEGORICAL}
    issued = fit["issue_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    weight = np.power(0.5, (issued.max() - issued) / HALF_LIFE_DAYS)
    data = lgb.Dataset(
        matrix(fit, categories),
        fit["target"].cast(pl.Int8).to_numpy(),
        weight=weight,
        categorical_feature=[NAMES.index(n) for n in CATEGORICAL],
    )
    booster = lgb.train(params(fit.height), data, num_boost_round=rounds)
    auc = roc_auc_score(held["target"].cast(pl.Int8).to_numpy(), booster.predict(matrix(held, categories)))
    return Model(booster, categories, float(auc), fit.height, held.height)


def score(features: pl.DataFrame, model: Model, policy: Policy) -> pl.DataFrame:
    """Per customer with open invoices: P(late) weighted by balance, and its band."""
    invoices = features.select("customer_id", "balance_minor").with_columns(
        pl.Series("p_late", model.booster.predict(matrix(features, model.categories)))
    )
    weight = pl.col("balance_minor").cast(pl.Float64).clip(lower_bound=1.0)
    band: pl.Expr = pl.lit(list(policy.bands)[-1])
    for name, upper in reversed(list(policy.bands.items())[:-1]):
        band = pl.when(pl.col("p_late") <= upper).then(pl.lit(name)).otherwise(band)
    return (
        invoices.group_by("customer_id")
        .agg(((pl.col("p_late") * weight).sum() / weight.sum()).alias("p_late"))
        .with_columns(band.alias("risk_band"))
    )


def run(work: Path, rounds: int, secret: str = "benchmark-secret-not-a-real-one") -> dict[str, Any]:
    """Every stage on the files in ``work``, timed."""
    policy = load_policy()
    timings: dict[str, float] = {}
    history = timed(timings, "ingest_billing", lambda: load(work))
    model = timed(timings, "train_model", lambda: train(history, DAY, rounds))
    features = timed(
        timings,
        "features_of_the_day",
        lambda: features_as_of(history.invoices, history.customers, history.paid, open_on(history.invoices, DAY)),
    )
    risk = timed(timings, "score", lambda: score(features, model, policy))
    segments = timed(timings, "segment", lambda: segment(risk, features, history.customers, policy, DAY))
    decisions = timed(timings, "plan_reminders", lambda: plan(features, history, segments, policy, DAY))
    messages = timed(timings, "render_messages", lambda: render(decisions, history.customers, policy, secret, DAY))
    return {
        "customers": history.customers.height,
        "invoices": history.invoices.height,
        "payments": history.paid.height,
        "fit_invoices": model.fit_rows,
        "validation_invoices": model.validation_rows,
        "trees": model.booster.num_trees(),
        "auc": round(model.auc, 4),
        "open_invoices_scored": features.height,
        "customers_segmented": segments.height,
        "decisions_by_outcome": dict(decisions.group_by("decision").len().sort("decision").iter_rows()),
        "messages": messages.height,
        "timings_s": timings,
        "cpu_s": dict(CPU_S),
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "daily_run", help="where daily_run generated")
    parser.add_argument("--rounds", type=int, default=470, help="boosting rounds: the product classifier's trees")
    args = parser.parse_args()
    print(json.dumps(run(args.work, args.rounds)))


if __name__ == "__main__":
    main()
