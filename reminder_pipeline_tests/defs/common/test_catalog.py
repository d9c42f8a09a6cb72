"""Issue 13: what the Dagster UI shows of every asset, check, job, schedule and sensor of the code location."""

from __future__ import annotations

import dagster as dg
import pytest

from reminder_pipeline.definitions import defs
from reminder_pipeline.defs.common import catalog
from reminder_pipeline.ledger import schema

SPECS = {spec.key.to_user_string(): spec for spec in defs.resolve_all_asset_specs()}
GRAPH = defs.resolve_asset_graph()
CHECKS = {key: GRAPH.get_check_spec(key) for key in GRAPH.asset_check_keys}
REPOSITORY = defs.get_repository_def()


def test_the_walk_sees_every_asset_and_check() -> None:
    assert len(SPECS) >= 14
    assert len(CHECKS) >= 19


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_asset_has_a_description_owners_group_kinds_and_column_schema(name: str) -> None:
    spec = SPECS[name]
    assert len(spec.description or "") > 30, name
    assert spec.owners, name
    assert all(owner.startswith("team:") for owner in spec.owners), name
    assert spec.group_name not in (None, "default"), name
    assert spec.kinds, name
    columns = spec.metadata.get("dagster/column_schema")
    assert isinstance(columns, dg.TableSchema), name
    assert columns.columns, name
    assert isinstance(spec.metadata.get("dashboard"), dg.UrlMetadataValue), name


@pytest.mark.parametrize("key", sorted(CHECKS, key=str), ids=str)
def test_every_check_says_what_it_means_and_what_to_do(key: dg.AssetCheckKey) -> None:
    description = CHECKS[key].description or ""
    assert len(description) > 40, key
    assert "What to do:" in description, (key, description)


def test_every_job_schedule_and_sensor_says_what_it_is_for() -> None:
    named = [
        *(job for job in REPOSITORY.get_all_jobs() if not job.name.startswith("__")),
        *REPOSITORY.schedule_defs,
        *REPOSITORY.sensor_defs,
    ]
    missing = [d.name for d in named if not d.description or len(d.description) < 40]
    assert not missing


def test_the_column_schema_is_the_ledger_table_the_asset_writes() -> None:
    columns = SPECS["customers"].metadata["dagster/column_schema"].columns
    assert [c.name for c in columns] == [c.name for c in schema.customers.columns]
    email = next(c for c in columns if c.name == "email")
    assert "masked" in (email.description or "")
    key = next(c for c in columns if c.name == "customer_id")
    assert key.constraints.unique
    assert not key.constraints.nullable
    assert SPECS["customers"].metadata["dagster/table_name"] == "ledger.customers"
    features = {c.name for c in SPECS["customer_features"].metadata["dagster/column_schema"].columns}
    assert {"hist_late_rate", "overdue_amount_ratio", "invoice_id", "balance_minor"} <= features


def test_the_dashboard_link_follows_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = dg.AssetSpec("anything", group_name="risk", kinds={"polars"})
    assert catalog.catalogued(spec).metadata["dashboard"].url == "http://127.0.0.1:8000/"
    monkeypatch.setenv(catalog.DASHBOARD_URL_ENV, "https://collections.example.com/")
    described = catalog.catalogued(spec)
    assert described.metadata["dashboard"].url == "https://collections.example.com/"
    assert described.owners == ["team:credit-risk"]
    assert "dagster/column_schema" not in described.metadata, "no schema is invented for an unknown asset"
