"""The run queue under the production limits: a backfill never takes every slot, and the daily run goes first.

The choice is Dagster's own queued run coordinator daemon's (which runs it would start now), on an
instance with ``deploy/dagster.yaml``'s run coordinator and concurrency settings.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon

from reminder_pipeline.defs.schedules.timing import DAILY_PRIORITY, PRIORITY_TAG
from reminder_pipeline_tests.deploy.files import load


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    production = load("dagster.yaml")
    overrides = {key: production[key] for key in ("run_coordinator", "concurrency")}
    with dg.instance_for_test(overrides=overrides) as test_instance:
        yield test_instance


def _origin(job: str) -> RemoteJobOrigin:
    location = RegisteredCodeLocationOrigin("reminder_pipeline")
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), job)


def _queue(instance: dg.DagsterInstance, job: str, tags: dict[str, str]) -> str:
    run = dg.DagsterRun(job_name=job, status=dg.DagsterRunStatus.QUEUED, tags=tags, remote_job_origin=_origin(job))
    return instance.add_run(run).run_id


def _next_started(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    daemon = QueuedRunCoordinatorDaemon(interval_seconds=1)
    return list(daemon._get_runs_to_dequeue(instance, instance.get_concurrency_config(), fixed_iteration_time=None))


def test_a_long_backfill_leaves_slots_and_the_daily_run_goes_first(instance: dg.DagsterInstance) -> None:
    backfill = [_queue(instance, "daily_run", {"dagster/backfill": "catch-up"}) for _ in range(6)]
    daily = _queue(instance, "daily_run", {PRIORITY_TAG: DAILY_PRIORITY, "dagster/partition": "2026-12-01"})
    delivery = _queue(instance, "deliveries", {"reminders/provider": "sendgrid"})
    started = [run.run_id for run in _next_started(instance)]
    assert started[0] == daily
    assert len([r for r in started if r in backfill]) == 2
    assert delivery in started
    assert len(started) == 4


def test_backfill_runs_already_going_count_against_their_limit(instance: dg.DagsterInstance) -> None:
    for _ in range(2):
        instance.add_run(
            dg.DagsterRun(
                job_name="daily_run",
                status=dg.DagsterRunStatus.STARTED,
                tags={"dagster/backfill": "b"},
                remote_job_origin=_origin("daily_run"),
            )
        )
    waiting = [_queue(instance, "daily_run", {"dagster/backfill": "b"}) for _ in range(3)]
    daily = _queue(instance, "daily_run", {PRIORITY_TAG: DAILY_PRIORITY})
    started = [run.run_id for run in _next_started(instance)]
    assert started == [daily]
    assert not set(waiting) & set(started)
