"""The daily run: its job, schedule and drop-folder sensor."""

from __future__ import annotations

import os
import time
from pathlib import Path

import dagster as dg
import pytest

from reminder_pipeline.definitions import defs
from reminder_pipeline.defs.daily_run.automation import SETTLE_SECONDS_ENV, drop_folder_sensor
from reminder_pipeline.defs.ingestion.resources import DropFolderSource
from reminder_pipeline_tests.defs.runs import D1, D2, write_two_day_drop
from reminder_pipeline_tests.ingestion.helpers import write_csv


def _evaluate(instance: dg.DagsterInstance, source: DropFolderSource, cursor: str | None = None) -> dg.SensorResult:
    """One tick of the drop-folder sensor, its context closed after (an open one leaves Dagster's state
    storage pointing at its instance for whatever test runs next)."""
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"billing_source": source}) as context:
        return drop_folder_sensor(context)


def test_the_sensor_requests_each_changed_day_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SETTLE_SECONDS_ENV, "0")
    root = write_two_day_drop(tmp_path / "drop")
    source = DropFolderSource(root=str(root))
    with dg.instance_for_test() as instance:
        first = _evaluate(instance, source)
        assert sorted(r.partition_key for r in first.run_requests) == [D1, D2]
        again = _evaluate(instance, source, first.cursor)
        assert again.run_requests == []
        write_csv(
            root / D2 / "payments.csv", "payment_id,invoice_id,amount,currency,paid_date\nP9,I0,1.00,EUR,2026-03-03"
        )
        changed = _evaluate(instance, source, first.cursor)
        assert [r.partition_key for r in changed.run_requests] == [D2]


def test_the_sensor_waits_until_a_day_folder_has_settled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SETTLE_SECONDS_ENV, raising=False)
    root = write_two_day_drop(tmp_path / "drop")
    source = DropFolderSource(root=str(root))
    with dg.instance_for_test() as instance:
        fresh = _evaluate(instance, source)
        assert fresh.run_requests == []
        assert fresh.cursor == "{}"
        two_minutes_ago = time.time() - 120
        for path in (root / D1).iterdir():
            os.utime(path, (two_minutes_ago, two_minutes_ago))
        settled = _evaluate(instance, source, fresh.cursor)
    assert [r.partition_key for r in settled.run_requests] == [D1]


def test_the_daily_run_covers_every_business_day_asset_and_is_scheduled() -> None:
    name = "daily_run"
    job = defs.resolve_job_def(name)
    assert {key.to_user_string() for key in job.asset_layer.executable_asset_keys} == {
        "customers",
        "invoices",
        "payments",
        "customer_features",
        "risk_scores",
        "customer_segments",
        "reminder_plan",
        "rendered_messages",
    }
    schedule = defs.resolve_schedule_def(f"{name}_schedule")
    assert schedule.cron_schedule == "0 6 * * *"
