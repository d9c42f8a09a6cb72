"""The daily run's schedule: business days in the operator's zone, days skipped where the policy says no one
may be contacted, and days nobody ran caught up by the next tick in one run."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from reminder_pipeline.definitions import defs
from reminder_pipeline.defs.common.policy import PolicyResource
from reminder_pipeline.defs.daily_run.automation import daily_run_schedule
from reminder_pipeline.defs.schedules.catch_up import (
    CATCH_UP_TAG,
    LOOKBACK_DAYS,
    RANGE_END_TAG,
    RANGE_START_TAG,
    days_of_run,
    first_missed,
)
from reminder_pipeline.defs.schedules.timing import DAILY_RUN_AT_ENV, PRIORITY_TAG, daily_run_at
from reminder_pipeline_tests.defs.schedules.helpers import write_policy

MONDAY = date(2026, 3, 9)
SATURDAY = date(2026, 3, 7)


def _tick(instance: dg.DagsterInstance, day: date, policy: Path | None = None) -> dg.RunRequest | dg.SkipReason:
    at = datetime.combine(day, time(6), tzinfo=UTC)
    resources = {"policy": PolicyResource(path=str(policy) if policy else None)}
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=at, resources=resources) as context:
        result = daily_run_schedule(context)
    assert isinstance(result, dg.RunRequest | dg.SkipReason)
    return result


def _planned(instance: dg.DagsterInstance, *days: date) -> None:
    for day in days:
        instance.report_runless_asset_event(dg.AssetMaterialization("reminder_plan", partition=day.isoformat()))


def test_a_day_after_a_day_that_ran_is_its_own_run_with_the_daily_priority() -> None:
    with dg.instance_for_test() as instance:
        _planned(instance, date(2026, 3, 8))
        request = _tick(instance, MONDAY)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2026-03-09"
    assert request.tags[PRIORITY_TAG] == "10"
    assert RANGE_START_TAG not in request.tags


def test_days_nobody_ran_join_the_next_tick_in_one_range() -> None:
    with dg.instance_for_test() as instance:
        _planned(instance, date(2026, 3, 5))  # then three days with no run at all
        request = _tick(instance, MONDAY)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key is None
    assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == ("2026-03-06", "2026-03-09")
    assert request.tags[CATCH_UP_TAG] == "2026-03-06...2026-03-08"


def test_a_day_whose_run_failed_is_left_to_the_operator() -> None:
    with dg.instance_for_test() as instance:
        _planned(instance, date(2026, 3, 5))
        for day in ("2026-03-06", "2026-03-07", "2026-03-08"):
            instance.add_run(
                dg.DagsterRun(job_name="daily_run", tags={"dagster/partition": day}, status=dg.DagsterRunStatus.FAILURE)
            )
        request = _tick(instance, MONDAY)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2026-03-09", "a broken feed run again would block today"


def test_a_fresh_deployment_does_not_backfill_history_by_itself() -> None:
    with dg.instance_for_test() as instance:
        request = _tick(instance, MONDAY)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2026-03-09"


def test_a_day_that_is_a_business_day_nowhere_is_skipped_and_run_with_the_next(tmp_path: Path) -> None:
    weekdays = write_policy(tmp_path / "policy.yaml", business_days=["mon", "tue", "wed", "thu", "fri"])
    with dg.instance_for_test() as instance:
        _planned(instance, date(2026, 3, 6))  # Friday
        skipped = _tick(instance, SATURDAY, weekdays)
        monday = _tick(instance, MONDAY, weekdays)
    assert isinstance(skipped, dg.SkipReason)
    assert "sat" in str(skipped.skip_message)
    assert isinstance(monday, dg.RunRequest)
    assert (monday.tags[RANGE_START_TAG], monday.tags[RANGE_END_TAG]) == ("2026-03-07", "2026-03-09")


def test_a_country_that_works_on_saturdays_keeps_saturday_and_a_quiet_day_skips(tmp_path: Path) -> None:
    policy = write_policy(
        tmp_path / "policy.yaml",
        business_days=["mon", "tue", "wed", "thu", "fri"],
        quiet_days=["2026-03-10"],
        countries={"AE": {"business_days": ["mon", "tue", "wed", "thu", "fri", "sat"]}},
    )
    with dg.instance_for_test() as instance:
        assert isinstance(_tick(instance, SATURDAY, policy), dg.RunRequest)
        quiet = _tick(instance, date(2026, 3, 10), policy)
    assert isinstance(quiet, dg.SkipReason)
    assert "quiet" in str(quiet.skip_message)


def test_a_policy_that_cannot_be_read_runs_the_day_anyway(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("contact: [", encoding="utf-8")
    with dg.instance_for_test() as instance:
        assert isinstance(_tick(instance, SATURDAY, broken), dg.RunRequest)


@pytest.mark.parametrize(
    ("tried", "expected"),
    [
        ([], None),
        ([date(2026, 3, 8)], None),
        ([date(2026, 3, 5)], date(2026, 3, 6)),
        ([date(2026, 3, 1), date(2026, 3, 3), date(2026, 3, 8)], date(2026, 3, 2)),
        ([date(2026, 1, 1)], None),  # beyond the window
    ],
)
def test_first_missed(tried: list[date], expected: date | None) -> None:
    assert first_missed(MONDAY, tried) == expected


def test_a_long_outage_is_caught_up_at_most_a_window_back() -> None:
    tried = [date(2026, 1, 30)]
    first = first_missed(date(2026, 3, 1), tried)
    assert first is not None
    assert (date(2026, 3, 1) - first).days <= LOOKBACK_DAYS


def test_the_days_of_a_run_come_from_its_partition_or_range_tags() -> None:
    assert days_of_run({"dagster/partition": "2026-03-02"}) == {date(2026, 3, 2)}
    assert days_of_run({RANGE_START_TAG: "2026-02-27", RANGE_END_TAG: "2026-03-01"}) == {
        date(2026, 2, 27),
        date(2026, 2, 28),
        date(2026, 3, 1),
    }
    assert days_of_run({}) == set()


def test_the_run_time_is_the_operators_and_refuses_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DAILY_RUN_AT_ENV, "05:45")
    assert daily_run_at() == time(5, 45)
    for bad in ("5.45", "25:00", "05:45:10"):
        monkeypatch.setenv(DAILY_RUN_AT_ENV, bad)
        with pytest.raises(ValueError, match=DAILY_RUN_AT_ENV):
            daily_run_at()


def test_every_schedule_says_when_in_which_zone_and_dagster_runs_only_its_latest_missed_tick() -> None:
    """Dagster 1.13 gives a code location's schedules no partition set, so after downtime the daemon
    evaluates only the latest missed tick (``max_catchup_runs`` does not apply): our ticks catch up."""
    from dagster._core.remote_representation.external_data import ScheduleSnap

    repository = defs.get_repository_def()
    for schedule in repository.schedule_defs:
        assert schedule.execution_timezone, schedule.name
        ZoneInfo(schedule.execution_timezone)
        assert len(schedule.description or "") > 40, schedule.name
        assert ScheduleSnap.from_def(schedule, repository).partition_set_name is None
