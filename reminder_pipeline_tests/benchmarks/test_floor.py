"""The floor (``benchmarks.floor``) on a small generated world beside the daily run: it runs, computes the
product model's features exactly, trains with the product's parameters and scores about as well."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from benchmarks import daily_run, floor
from benchmarks.against_floor import exponent, growth, summarise_size
from benchmarks.against_floor_report import markdown
from benchmarks.floor_features import features_as_of, open_on
from reminder_pipeline.core.features.build import features_as_of as product_features_as_of
from reminder_pipeline.core.features.catalogue import FEATURES
from reminder_pipeline.core.model.fitting import ModelConfig
from reminder_pipeline.ledger.history import load_history
from reminder_pipeline.ledger.store import Ledger

CUSTOMERS = 700
RELATIVE_TOLERANCE = 1e-5
"""Sums taken in another order differ in the last digits (a spread of log amounts near zero magnifies them)."""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """Generated exports, the daily run's figures on them and the floor's with as many trees."""
    work = tmp_path_factory.mktemp("floor")
    daily_run.generate(CUSTOMERS, work)
    ours = daily_run.run(work)
    return work, ours, floor.run(work, ours["classifier_trees"])


def _differing(product: pl.DataFrame, mine: pl.DataFrame) -> dict[str, int]:
    joined = product.join(mine, on="invoice_id", how="full", suffix="_floor")
    found = {}
    for name in [*floor.NAMES, "balance_minor"]:
        theirs, ours = pl.col(name), pl.col(f"{name}_floor")
        if product[name].dtype == pl.String:
            differs = theirs.ne_missing(ours)
        else:
            theirs, ours = theirs.cast(pl.Float64).fill_nan(None), ours.cast(pl.Float64).fill_nan(None)
            apart = (theirs - ours).abs() > RELATIVE_TOLERANCE * (1.0 + theirs.abs())
            differs = apart.fill_null(False) | (theirs.is_null() != ours.is_null())
        if count := joined.filter(differs).height:
            found[name] = count
    return found


def test_the_floor_runs_every_stage_and_scores_about_as_well(
    world: tuple[Path, dict[str, Any], dict[str, Any]],
) -> None:
    _, ours, bare = world
    assert list(bare["timings_s"]) == list(ours["timings_s"]) == list(bare["cpu_s"])
    assert bare["trees"] == ours["classifier_trees"] > 0
    assert (bare["fit_invoices"], bare["validation_invoices"]) == (ours["fit_invoices"], ours["validation_invoices"])
    assert bare["open_invoices_scored"] == ours["open_invoices_scored"]
    assert bare["customers_segmented"] == ours["customers_segmented"]
    assert abs(bare["auc"] - ours["validation"]["auc"]) < 0.01
    assert bare["messages"] > 0
    assert bare["decisions_by_outcome"]["handoff"] == ours["decisions_by_outcome"]["handoff"]


def test_the_floors_features_are_the_products(world: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    work, _, _ = world
    ledger = Ledger(f"sqlite:///{work / 'ledger.sqlite'}")
    with ledger.begin() as connection:
        history = load_history(connection)
    ledger.dispose()
    bare = floor.load(work)
    for queries in (
        open_on(bare.invoices, floor.DAY),
        bare.invoices.select("invoice_id", pl.col("issue_date").alias("as_of")),
    ):
        mine = features_as_of(bare.invoices, bare.customers, bare.paid, queries)
        product = product_features_as_of(history, queries)
        assert product.height == mine.height == queries.height
        assert _differing(product, mine) == {}


def test_the_floor_trains_with_the_products_parameters() -> None:
    assert [f.name for f in FEATURES] == floor.NAMES
    assert [f.name for f in FEATURES if f.categorical] == floor.CATEGORICAL
    shape = {"monotone_constraints": [f.monotone for f in FEATURES]}
    for rows in (1_000, 100_000):
        assert floor.params(rows) == ModelConfig().params("binary", rows, metric="binary_logloss", **shape)


def test_the_report_has_ratios_and_exponents(world: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    _, ours, bare = world
    size = summarise_size({"generated_customers": CUSTOMERS, "runs": {"ours": [ours], "floor": [bare]}})
    train = size["stages"]["train_model"]
    assert train["cpu_ratio"] == round(train["ours_cpu_s"] / train["floor_cpu_s"], 1)
    larger = {**size, "invoices": size["invoices"] * 10}
    larger["stages"] = {s: {k: v * 10 for k, v in row.items() if k.endswith("_s")} for s, row in size["stages"].items()}
    larger["totals"] = {s: {k: v * 10 for k, v in row.items() if k.endswith("_s")} for s, row in size["totals"].items()}
    ones = {"ours": 1.0, "floor": 1.0, "ours_largest": 1.0, "floor_largest": 1.0}
    assert growth([size, larger])["train_model"] == ones
    assert exponent([10, 10], [1.0, 2.0]) is None
    result = {
        "started": "now",
        "command": "python -m benchmarks.against_floor",
        "machine": {"cpu": "x", "cores": 2, "memory_gib": 1, "system": "Linux", "python": "3", "niceness": 5},
        "load_average": {"before": [1.0], "after": [1.0]},
        "sizes": [size],
        "growth": growth([size]),
    }
    text = markdown(result)
    assert f"{size['invoices']:,} invoices" in text
    assert f"| {train['ours_wall_s']} | {train['ours_cpu_s']} | {train['floor_wall_s']} |" in text
