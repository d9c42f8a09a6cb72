"""The production setup for real, for a bounded time: a Dagster instance on PostgreSQL (deploy/dagster.yaml,
a fresh database), the code location as its own gRPC server, and ``dagster-daemon run`` evaluating the
schedules and sensors and launching runs, which send through the provider sandbox.

The ledger holds today's reminders, written this morning, for customers in a zone where it is midday
now; the delivery sensor (running by default) must send each exactly once. The daily run's schedule is
started with ``dagster schedule start`` for a tick at the current minute (its start time set back a
few minutes, as if it had been started earlier), after a daily run two days ago: the daemon must launch
one run that catches up yesterday with today. Then the daemon is stopped with SIGTERM and must exit 0.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
import yaml
from dagster._core.scheduler.instigation import InstigatorType, ScheduleInstigatorData
from sqlalchemy import select

from reminder_pipeline.config_files import load_policy, load_templates
from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.rendering.links import LinkSigner
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger
from reminder_pipeline.providers.sandbox import SandboxConfig, running_sandbox
from reminder_pipeline.providers.settings import sandbox_environment
from reminder_pipeline.reminders.service import plan_and_record_day, render_day
from reminder_pipeline_tests.conftest import new_database, require_postgres
from reminder_pipeline_tests.defs.schedules.helpers import Customer, midday_now, write_day, write_policy
from reminder_pipeline_tests.defs.schedules.promises import promise_counters
from reminder_pipeline_tests.deploy.files import DEPLOY
from reminder_pipeline_tests.deploy.processes import (
    clean_environment,
    free_port,
    port_open,
    running,
    stop,
    wait_for,
)
from reminder_pipeline_tests.ingestion.helpers import ingest_file

LINK_SECRET = "a-daemon-test-secret-of-some-length"
DONE = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture
def dagster_database() -> Iterator[str]:
    """A fresh PostgreSQL database for the Dagster instance (the ledger has its own)."""
    with new_database(require_postgres(), "rp_dagster") as name:
        yield name


def _prepare_ledger(url: str, drop: Path, policy: Path, zone: str, now: datetime) -> int:
    """Today's reminders planned and written this morning for customers owing since eight days: returns how many."""
    today = now.astimezone(ZoneInfo(zone)).date()
    people = [Customer(f"C{n:04d}", zone, "sms" if n == 5 else "email") for n in range(1, 6)]
    invoices = [
        (f"INV-{p.customer_id}", p.customer_id, today - timedelta(days=38), today - timedelta(days=8)) for p in people
    ]
    write_day(drop, today, people, invoices)
    upgrade_ledger(url)
    with Ledger(url) as ledger:
        ingest_file(ledger, drop / today.isoformat() / "customers.csv", Entity.CUSTOMERS)
        ingest_file(ledger, drop / today.isoformat() / "invoices.csv", Entity.INVOICES)
        rules = load_policy(policy)
        plan_and_record_day(ledger, rules, today, now, run_id="prepared", business_tz=zone)
        render_day(ledger, rules, load_templates(), LinkSigner(LINK_SECRET), today, now)
        with ledger.begin() as connection:
            rendered = connection.execute(
                select(schema.outbox.c.outbox_id).where(schema.outbox.c.status == "rendered")
            ).all()
    return len(rendered)


def _runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    return [record.dagster_run for record in instance.get_run_records()]


def _backdate_schedule(instance: dg.DagsterInstance, name: str, seconds: float) -> None:
    states = instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
    state = next(s for s in states if s.instigator_name == name)
    earlier = time.time() - seconds
    data = state.instigator_data
    assert isinstance(data, ScheduleInstigatorData)
    instance.update_instigator_state(state.with_data(ScheduleInstigatorData(data.cron_schedule, earlier, earlier)))


def test_the_daemon_runs_the_schedules_and_sensors_and_the_runs_send_through_the_sandbox(
    tmp_path: Path, postgres_url: str, dagster_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = midday_now()
    zone, now = clock.zone, clock.now
    local_now = now.astimezone(ZoneInfo(zone))
    today = local_now.date()
    drop, logs, home = tmp_path / "drop", tmp_path / "logs", tmp_path / "dagster_home"
    policy = write_policy(tmp_path / "policy.yaml")
    home.mkdir()
    (home / "dagster.yaml").write_text((DEPLOY / "dagster.yaml").read_text())
    port = free_port()
    workspace = tmp_path / "workspace.yaml"
    server_entry = {"host": "127.0.0.1", "port": port, "location_name": "reminder_pipeline"}
    workspace.write_text(yaml.safe_dump({"load_from": [{"grpc_server": server_entry}]}))
    instance_env = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": "unused-with-trust-auth",
        "DAGSTER_PG_DB": dagster_database,
        "DAGSTER_COMPUTE_LOG_DIR": str(tmp_path / "compute_logs"),
        "DAGSTER_ARTIFACT_DIR": str(tmp_path / "artifacts"),
    }
    for name, value in instance_env.items():
        monkeypatch.setenv(name, value)
    daemon_env = clean_environment(instance_env)
    server = ["dagster", "api", "grpc", "-m", "reminder_pipeline.definitions", "-h", "127.0.0.1", "-p", str(port)]
    with running_sandbox(SandboxConfig(port=0, log_path=tmp_path / "sandbox_messages.jsonl")) as sandbox:
        code_env = clean_environment(
            instance_env
            | sandbox_environment(sandbox.url, public_url="http://127.0.0.1:9")
            | {
                "REMINDERS_DB_URL": postgres_url,
                "REMINDERS_HOME": str(tmp_path / "data"),
                "REMINDERS_DROP_DIR": str(drop),
                "REMINDERS_POLICY": str(policy),
                "REMINDERS_LINK_SECRET": LINK_SECRET,
                "REMINDERS_BUSINESS_TZ": zone,
                "REMINDERS_PARTITIONS_START": (today - timedelta(days=30)).isoformat(),
                "REMINDERS_DAILY_RUN_AT": f"{local_now:%H:%M}",
            }
        )
        # the code server loads while the ledger and the instance are prepared
        with running("code_server", server, code_env, logs), dg.DagsterInstance.from_config(str(home)) as instance:
            expected = _prepare_ledger(postgres_url, drop, policy, zone, now)
            assert expected == 5
            # the pipeline last ran two days ago: the tick must bring yesterday in with today
            instance.report_runless_asset_event(
                dg.AssetMaterialization("reminder_plan", partition=(today - timedelta(days=2)).isoformat())
            )
            wait_for("the code server", lambda: port_open(port), 90, logs)
            with running(
                "schedule_start",
                ["dagster", "schedule", "start", "daily_run_schedule", "-w", str(workspace)],
                daemon_env,
                logs,
            ) as cli:
                assert cli.wait(60) == 0
            _backdate_schedule(instance, "daily_run_schedule", 600)
            with running("daemon", ["dagster-daemon", "run", "-w", str(workspace)], daemon_env, logs) as daemon:

                def settled() -> list[dg.DagsterRun] | None:
                    runs = _runs(instance)
                    jobs = [r.job_name for r in runs]
                    finished = all(r.status in DONE for r in runs)
                    if finished and jobs.count("deliveries") >= 2 and "daily_run" in jobs:
                        return runs
                    return None

                runs = wait_for("the daily run and both deliveries", settled, 100, logs)
                assert stop(daemon) == 0, "the daemon stops cleanly on SIGTERM"
            heartbeats = set(instance.get_daemon_heartbeats())
        messages = sandbox.control.messages()

        failed = [(r.job_name, r.status) for r in runs if r.status is not dg.DagsterRunStatus.SUCCESS]
        assert failed == []
        (daily,) = [r for r in runs if r.job_name == "daily_run"]
        assert daily.tags["dagster/asset_partition_range_start"] == (today - timedelta(days=1)).isoformat()
        assert daily.tags["dagster/asset_partition_range_end"] == today.isoformat()
        assert daily.tags["dagster/schedule_name"] == "daily_run_schedule"
        deliveries = sorted(r.tags["reminders/provider"] for r in runs if r.job_name == "deliveries")
        assert deliveries == ["sendgrid", "twilio"]
        assert all(r.tags.get("dagster/sensor_name") == "delivery_sensor" for r in runs if r.job_name == "deliveries")
        assert {"SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR"} <= heartbeats

    assert len(messages) == expected
    assert sorted(m["channel"] for m in messages) == ["email", "email", "email", "email", "sms"]
    with Ledger(postgres_url) as ledger:
        with ledger.begin() as connection:
            statuses = connection.execute(select(schema.outbox.c.status)).scalars().all()
        counters = promise_counters(ledger, messages, load_policy(policy))
    assert statuses == ["sent"] * expected
    assert {k: counters[k] for k in ("unknown_keys", "duplicates", "sent_in_quiet_hours", "over_cap")} == {
        "unknown_keys": 0,
        "duplicates": 0,
        "sent_in_quiet_hours": 0,
        "over_cap": 0,
    }
