"""The Dagster instance files, checked against Dagster's own instance schema and the classes they name, and
the production one brought up for real on a fresh PostgreSQL database."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config
from dagster._serdes.config_class import ConfigurableClassData
from sqlalchemy.engine import make_url

from reminder_pipeline.definitions import defs
from reminder_pipeline.defs.common.retries import NO_RUN_RETRY_ON_STEP_FAILURE, TRANSIENT
from reminder_pipeline_tests.conftest import PROJECT
from reminder_pipeline_tests.deploy.files import DEPLOY, load

CLASSES = ("run_coordinator", "run_launcher", "scheduler", "compute_logs", "local_artifact_storage")
UNTAGGED_JOBS: set[str] = set()
"""Jobs without the no-retry-on-step-failure tag: none, so that any instance honours it."""


@pytest.fixture
def instance_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name, value in {
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": "unused-with-trust-auth",
        "DAGSTER_PG_DB": "postgres",
        "DAGSTER_COMPUTE_LOG_DIR": str(tmp_path / "compute_logs"),
        "DAGSTER_ARTIFACT_DIR": str(tmp_path / "artifacts"),
    }.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def test_the_production_instance_passes_dagsters_schema_and_every_class_takes_its_config(instance_env: Path) -> None:
    config, custom_class = dagster_instance_config(str(DEPLOY))
    assert custom_class is None
    for key in CLASSES:
        entry = config[key]
        data = ConfigurableClassData(entry["module"], entry["class"], yaml.safe_dump(entry.get("config") or {}))
        assert data.rehydrate() is not None, key
    assert set(config["storage"]) == {"postgres"}


def test_a_mistyped_setting_is_refused_by_the_same_checks(instance_env: Path, tmp_path: Path) -> None:
    broken = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    broken["scheduler"]["config"]["max_catchup_run"] = 1
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(broken))
    config, _ = dagster_instance_config(str(home))
    entry = config["scheduler"]
    with pytest.raises(dg.DagsterInvalidConfigError):
        ConfigurableClassData(entry["module"], entry["class"], yaml.safe_dump(entry["config"])).rehydrate()
    broken["run_retries"]["retry_on_step_failure"] = False
    (home / "dagster.yaml").write_text(yaml.safe_dump(broken))
    with pytest.raises(dg.DagsterInvalidConfigError):
        dagster_instance_config(str(home))


def test_the_production_instance_runs_on_postgresql(
    instance_env: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_PG_DB", str(make_url(postgres_url).database))
    with dg.DagsterInstance.from_config(str(DEPLOY)) as instance:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert instance.run_retries_max_retries == 1
        assert instance.run_retries_retry_on_asset_or_op_failure is False
        assert instance.scheduler is not None
        assert instance.scheduler.max_catchup_runs == 1  # type: ignore[attr-defined]
        run = instance.add_run(dg.DagsterRun(job_name="daily_run", tags={"dagster/partition": "2026-03-02"}))
        assert instance.get_run_by_id(run.run_id) is not None
        limits = instance.get_concurrency_config()
        assert limits.run_queue_config is not None
        assert limits.run_queue_config.max_concurrent_runs == 4
        assert limits.pool_config.default_pool_limit == 4


def test_run_retries_never_multiply_step_retries() -> None:
    """A step retries itself (``TRANSIENT``); the instance re-runs only a lost run, and only once."""
    retries = load("dagster.yaml")["run_retries"]
    assert retries["retry_on_asset_or_op_failure"] is False
    assert retries["max_retries"] <= 1
    assert TRANSIENT.max_retries == 3
    tagged = {
        job.name
        for job in defs.get_repository_def().get_all_jobs()
        if job.tags.get("dagster/retry_on_asset_or_op_failure")
        == NO_RUN_RETRY_ON_STEP_FAILURE["dagster/retry_on_asset_or_op_failure"]
    }
    assert {"daily_run", "statement_run", "train_risk_model"} <= tagged
    every = {job.name for job in defs.get_repository_def().get_all_jobs()} - {"__ASSET_JOB"}
    assert every - tagged == UNTAGGED_JOBS


def test_backfills_cannot_take_every_run_slot() -> None:
    runs = load("dagster.yaml")["concurrency"]["runs"]
    backfill = next(limit for limit in runs["tag_concurrency_limits"] if limit["key"] == "dagster/backfill")
    assert 0 < backfill["limit"] < runs["max_concurrent_runs"]


def test_the_dagster_yaml_dagster_dev_reads_holds_only_what_is_safe_everywhere(instance_env: Path) -> None:
    """``dagster dev`` reads ./dagster.yaml even with a temporary home: no storage, launcher or coordinator."""
    config, _ = dagster_instance_config(str(PROJECT))
    assert not {"storage", "run_storage", "event_log_storage", "run_launcher", "run_coordinator", "compute_logs"} & set(
        config
    )
    assert config["run_retries"]["max_retries"] == 0, "locally no run is retried"
