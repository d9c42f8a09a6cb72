"""The risk assets materialized by Dagster on a ledger filled from generated demo data."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import polars as pl
import pytest
from sqlalchemy import select, update

from reminder_pipeline.core.features.catalogue import FEATURES
from reminder_pipeline.core.model.drift import DRIFT_FEATURES, RETRAIN_PSI
from reminder_pipeline.defs.ingestion.assets import customers, invoices, payments
from reminder_pipeline.defs.risk.assets import (
    SCORE_DRIFT,
    customer_features,
    customer_segments,
    risk_model,
    risk_scores,
)
from reminder_pipeline.defs.risk.resources import FeatureStore
from reminder_pipeline.demo.files import write_drop_folder
from reminder_pipeline.demo.generator import generate_demo_data
from reminder_pipeline.ledger.model_registry import ACTIVE, REJECTED
from reminder_pipeline.ledger.schema import customer_segments as segments_table
from reminder_pipeline.ledger.schema import model_versions
from reminder_pipeline.ledger.schema import risk_scores as scores_table
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline_tests.defs.runs import asset_metadata, asset_resources, partition_metadata, partition_range

START, END = date(2025, 1, 1), date(2026, 2, 28)
TRAINED = END - timedelta(days=3)
SCORED = (END - timedelta(days=2), END)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger with 14 months of generated billing data, ingested through the real assets."""
    workdir = tmp_path_factory.mktemp("risk")
    write_drop_folder(generate_demo_data(6000, seed=5, start=START, end=END, dirty_rate=0.0), workdir / "drop")
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [customers, invoices, payments],
            instance=instance,
            resources=asset_resources(workdir),
            tags=partition_range(START, END),
        )
    assert result.success
    return workdir


@pytest.fixture
def workdir(ingested: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "work"
    shutil.copytree(ingested, copy, ignore=shutil.ignore_patterns("drop"))
    return copy


def _train(workdir: Path, instance: dg.DagsterInstance, **config: Any) -> dg.ExecuteInJobResult:
    return dg.materialize(
        [risk_model],
        instance=instance,
        resources=asset_resources(workdir),
        run_config={"ops": {"risk_model": {"config": {"as_of": TRAINED.isoformat(), **config}}}},
        raise_on_error=False,
    )


def _score(workdir: Path, instance: dg.DagsterInstance) -> dg.ExecuteInJobResult:
    return dg.materialize(
        [customer_features, risk_scores, customer_segments],
        instance=instance,
        resources=asset_resources(workdir),
        tags=partition_range(*SCORED),
    )


def test_train_score_and_segment(workdir: Path) -> None:
    with dg.instance_for_test() as instance:
        trained = _train(workdir, instance)
        assert trained.success
        [gate] = trained.get_asset_check_evaluations()
        assert gate.passed
        model_meta = asset_metadata(trained, "risk_model")
        assert model_meta["status"] == ACTIVE
        assert model_meta["auc"] > 0.75, "the generated behaviours are learnable"
        scored = _score(workdir, instance)
    assert scored.success
    score_meta = asset_metadata(scored, "risk_scores")
    assert score_meta["scorer"] == model_meta["version"]
    histograms = {day: m["risk_histogram"] for day, m in partition_metadata(scored, "risk_scores").items()}
    assert "data:image/png;base64," in histograms[SCORED[1].isoformat()]
    assert "data:image" not in histograms[SCORED[0].isoformat()], "one histogram per run, for its last day"
    with Ledger(f"sqlite:///{workdir / 'ledger.sqlite'}") as ledger, ledger.begin() as connection:
        days = {row[0] for row in connection.execute(select(scores_table.c.business_date)).all()}
        reasons = json.loads(connection.execute(select(scores_table.c.reasons).limit(1)).scalar_one())
        bands = {row[0] for row in connection.execute(select(segments_table.c.risk_band)).all()}
    assert days == {SCORED[0], SCORED[0] + timedelta(days=1), SCORED[1]}
    assert isinstance(reasons, list)
    assert bands <= {"low", "medium", "high"}
    assert len(bands) >= 2


def test_a_worse_candidate_is_refused_and_the_previous_model_stays_in_use(workdir: Path) -> None:
    noise_only = [f.name for f in FEATURES if f.name not in ("issue_weekday", "due_weekday")]
    with dg.instance_for_test() as instance:
        assert _train(workdir, instance).success
        refused = _train(workdir, instance, exclude=noise_only)
        assert not refused.success, "the blocking quality gate fails the run"
        [gate] = refused.get_asset_check_evaluations()
        assert not gate.passed
        scored = _score(workdir, instance)
    with Ledger(f"sqlite:///{workdir / 'ledger.sqlite'}") as ledger, ledger.begin() as connection:
        statuses = [
            row[0] for row in connection.execute(select(model_versions.c.status).order_by(model_versions.c.version_id))
        ]
    assert statuses == [ACTIVE, REJECTED]
    assert asset_metadata(scored, "risk_scores")["scorer"] != "rule"


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_without_a_usable_model_the_rule_score_takes_over_and_says_so(workdir: Path, damage: str) -> None:
    with dg.instance_for_test() as instance:
        if damage == "corrupt":
            assert _train(workdir, instance).success
            with Ledger(f"sqlite:///{workdir / 'ledger.sqlite'}") as ledger, ledger.begin() as connection:
                connection.execute(update(model_versions).values(bundle='{"format": 2, "classifier": "garbage"'))
        scored = _score(workdir, instance)
    assert scored.success
    metadata = asset_metadata(scored, "risk_scores")
    assert metadata["scorer"] == "rule"
    assert ("corrupt" if damage == "corrupt" else "no model") in metadata["fallback_reason"]


@pytest.mark.parametrize(
    ("days", "verdict"),
    [
        (20, "validation invoices"),
        # enough invoices due in the last 60 days to validate on, none due before them to learn from
        (70, "invoices to learn from"),
    ],
)
def test_too_little_history_warns_instead_of_blocking(workdir: Path, days: int, verdict: str) -> None:
    with dg.instance_for_test() as instance:
        early = dg.materialize(
            [risk_model],
            instance=instance,
            resources=asset_resources(workdir),
            run_config={"ops": {"risk_model": {"config": {"as_of": (START + timedelta(days=days)).isoformat()}}}},
        )
    assert early.success
    [gate] = early.get_asset_check_evaluations()
    assert not gate.passed
    assert gate.severity == dg.AssetCheckSeverity.WARN
    assert verdict in str(gate.metadata["verdict"].value)


def test_two_trainings_in_the_same_second_are_two_versions(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reminder_pipeline.defs.risk.assets as risk_assets

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> FrozenClock:
            return cls(2026, 2, 25, 12, 0, 0, tzinfo=tz)

    monkeypatch.setattr(risk_assets, "datetime", FrozenClock)
    with dg.instance_for_test() as instance:
        assert _train(workdir, instance).success
        assert _train(workdir, instance).success
    with Ledger(f"sqlite:///{workdir / 'ledger.sqlite'}") as ledger, ledger.begin() as connection:
        versions = [row[0] for row in connection.execute(select(model_versions.c.version)).all()]
    assert len(set(versions)) == 2


def _drift_check(result: dg.ExecuteInJobResult) -> dg.AssetCheckEvaluation:
    [drift] = [c for c in result.get_asset_check_evaluations() if c.check_name == SCORE_DRIFT]
    return drift


def test_a_fresh_model_scored_a_week_later_on_its_own_population_raises_no_drift_alarm(workdir: Path) -> None:
    """The reference is the open invoices scored on the training day, not the invoices the model learned from;
    a population that has really moved still raises the alarm."""
    store = FeatureStore(root=str(workdir / "features"))
    with dg.instance_for_test() as instance:
        assert _train(workdir, instance, as_of=(END - timedelta(days=7)).isoformat()).success
        scored = dg.materialize(
            [customer_features, risk_scores],
            instance=instance,
            resources=asset_resources(workdir),
            tags=partition_range(END, END),
        )
        drift = _drift_check(scored)
        psi = drift.metadata["psi"].value
        assert drift.passed, psi
        assert isinstance(psi, dict)
        assert set(psi) == {"p_late", *DRIFT_FEATURES}, "the score and every key feature are compared"

        # the same day, had every customer started paying late and buying ten times as much
        moved = store.read("customer_features", END).with_columns(
            pl.col("hist_late_rate").fill_null(0.0) * 0.2 + 0.8, pl.col("amount_log") + np.log(10.0)
        )
        store.write("customer_features", END, moved)
        rescored = dg.materialize(
            [risk_scores],
            instance=instance,
            resources=asset_resources(workdir),
            tags=partition_range(END, END),
            selection=[risk_scores],
        )
    shifted = _drift_check(rescored)
    assert not shifted.passed
    assert shifted.metadata["worst_psi"].value >= RETRAIN_PSI
