"""The production instance configuration in deploy/ works against a real PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition
from dagster._core.events import JobFailureData, RunFailureReason
from dagster._core.instance.config import dagster_instance_config
from dagster._core.storage.dagster_run import DagsterRunStatus
from dagster._core.storage.tags import RUN_FAILURE_REASON_TAG, WILL_RETRY_TAG
from dagster._core.utils import make_new_run_id
from dagster._daemon.auto_run_reexecution.auto_run_reexecution import should_retry
from sqlalchemy.engine import make_url

from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.daily_run.automation import daily_run
from reminder_pipeline.defs.ingestion.assets import RATE, customers
from reminder_pipeline.defs.ingestion.resources import DropFolderSource
from reminder_pipeline.defs.risk.automation import train_risk_model
from reminder_pipeline_tests.conftest import PROJECT
from reminder_pipeline_tests.ingestion.helpers import write_csv

DEPLOY = PROJECT / "deploy" / "dagster.yaml"
DAY = "2026-03-02"


@pytest.fixture
def deploy_home(postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``$DAGSTER_HOME`` with deploy/dagster.yaml, its variables pointing at a fresh PostgreSQL database."""
    url = make_url(postgres_url)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY, home / "dagster.yaml")
    for name, value in {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": str(url.host),
        "DAGSTER_PG_PORT": str(url.port),
        "DAGSTER_PG_USER": str(url.username),
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_DB": str(url.database),
        "DAGSTER_COMPUTE_LOG_DIR": str(tmp_path / "logs"),
        "DAGSTER_ARTIFACT_DIR": str(tmp_path / "artifacts"),
    }.items():
        monkeypatch.setenv(name, value)
    return home


def _dispose(instance: dg.DagsterInstance) -> None:
    instance.run_storage.dispose()
    instance.event_log_storage.dispose()


def _resources(tmp_path: Path, ledger_url: str) -> dict[str, object]:
    return {"ledger": LedgerResource(url=ledger_url), "billing_source": DropFolderSource(root=str(tmp_path / "drop"))}


def test_the_deploy_settings_are_valid_for_dagster(deploy_home: Path) -> None:
    config, _ = dagster_instance_config(str(deploy_home))
    assert config["run_retries"] == {"enabled": True, "max_retries": 1, "retry_on_asset_or_op_failure": False}


def test_the_deploy_instance_stores_runs_in_postgres(deploy_home: Path, postgres_url: str, tmp_path: Path) -> None:
    drop = tmp_path / "drop" / DAY
    drop.mkdir(parents=True)
    write_csv(drop / "customers.csv", "customer_id,email\nC1,c1@example.com")
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        result = dg.materialize(
            [customers], instance=instance, partition_key=DAY, resources=_resources(tmp_path, postgres_url)
        )
        assert result.success
        latest = instance.get_latest_materialization_event(dg.AssetKey("customers"))
        assert latest is not None
        assert latest.asset_materialization is not None
        assert latest.asset_materialization.metadata["accepted"].value == 1
        _dispose(instance)


def _refused_feed(tmp_path: Path) -> None:
    """A day whose every customer row is quarantined: the blocking quarantine-rate check fails."""
    drop = tmp_path / "drop" / DAY
    drop.mkdir(parents=True)
    write_csv(drop / "customers.csv", "customer_id,email\n" + "\n".join(f"C{n},not-an-address" for n in range(20)))


def _fail_a_blocking_check(instance: dg.DagsterInstance, tmp_path: Path, ledger_url: str) -> dg.DagsterRun:
    result = dg.materialize(
        [customers],
        instance=instance,
        partition_key=DAY,
        resources=_resources(tmp_path, ledger_url),
        raise_on_error=False,
    )
    assert not result.success
    [failed] = [c for c in result.get_asset_check_evaluations() if not c.passed]
    assert failed.check_name == RATE
    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    assert run.tags[RUN_FAILURE_REASON_TAG] == RunFailureReason.STEP_FAILURE.value
    return run


def _lose_a_run(instance: dg.DagsterInstance) -> dg.DagsterRun:
    """A run whose worker was interrupted: what Dagster records when the process goes away mid-run."""
    run = instance.add_run(
        dg.DagsterRun(job_name="daily_run", run_id=make_new_run_id(), status=DagsterRunStatus.STARTED)
    )
    instance.report_run_failed(
        run, job_failure_data=JobFailureData(error=None, failure_reason=RunFailureReason.UNEXPECTED_TERMINATION)
    )
    lost = instance.get_run_by_id(run.run_id)
    assert lost is not None
    return lost


def test_a_run_that_failed_a_blocking_check_is_not_retried_but_a_lost_run_is(
    deploy_home: Path, postgres_url: str, tmp_path: Path
) -> None:
    """Dagster's own retry decision (the one its daemon acts on) under deploy/dagster.yaml, on PostgreSQL."""
    _refused_feed(tmp_path)
    with dg.DagsterInstance.get() as instance:
        assert instance.run_retries_enabled
        assert instance.run_retries_max_retries > 0
        refused = _fail_a_blocking_check(instance, tmp_path, postgres_url)
        assert refused.tags[WILL_RETRY_TAG] == "false", "the same feed would be refused again"
        assert not should_retry(refused, instance)
        lost = _lose_a_run(instance)
        assert lost.tags[WILL_RETRY_TAG] == "true", "a lost process can heal: the run is re-executed"
        assert should_retry(lost, instance)
        _dispose(instance)


@pytest.mark.parametrize("job", [daily_run, train_risk_model], ids=lambda job: job.name)
def test_our_jobs_are_not_retried_after_a_step_failure_on_any_instance(
    job: UnresolvedAssetJobDefinition, tmp_path: Path, sqlite_url: str
) -> None:
    """An instance that retries every failed run (Dagster's default once retries are on) still leaves ours."""
    _refused_feed(tmp_path)
    with dg.instance_for_test(overrides={"run_retries": {"enabled": True, "max_retries": 3}}) as instance:
        assert instance.run_retries_retry_on_asset_or_op_failure, "the instance would retry step failures"
        result = dg.materialize(
            [customers],
            instance=instance,
            partition_key=DAY,
            resources=_resources(tmp_path, sqlite_url),
            tags=job.tags,
            raise_on_error=False,
        )
        run = instance.get_run_by_id(result.run_id)
        assert run is not None
        assert not should_retry(run, instance)


def test_the_local_instance_settings_never_retry_a_step_failure() -> None:
    settings = yaml.safe_load((PROJECT / "dagster.yaml").read_text())
    assert settings["run_retries"]["retry_on_asset_or_op_failure"] is False
