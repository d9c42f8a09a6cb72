"""The production instance configuration in deploy/ works against a real PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy.engine import make_url

from reminder_pipeline.defs.ingestion.assets import customers
from reminder_pipeline.defs.resources import DropFolderSource, LedgerResource
from reminder_pipeline_tests.conftest import PROJECT
from reminder_pipeline_tests.ingestion.helpers import write_csv


def test_the_deploy_instance_stores_runs_in_postgres(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_url(postgres_url)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "deploy" / "dagster.yaml", home / "dagster.yaml")
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
    drop = tmp_path / "drop" / "2026-03-02"
    drop.mkdir(parents=True)
    write_csv(drop / "customers.csv", "customer_id,email\nC1,c1@example.com")
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        result = dg.materialize(
            [customers],
            instance=instance,
            partition_key="2026-03-02",
            resources={
                "ledger": LedgerResource(url=postgres_url),
                "billing_source": DropFolderSource(root=str(tmp_path / "drop")),
            },
        )
        assert result.success
        latest = instance.get_latest_materialization_event(dg.AssetKey("customers"))
        assert latest is not None
        assert latest.asset_materialization is not None
        assert latest.asset_materialization.metadata["accepted"].value == 1
        instance.run_storage.dispose()
        instance.event_log_storage.dispose()
