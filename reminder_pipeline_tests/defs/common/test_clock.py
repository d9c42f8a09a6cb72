"""The clocks runs go by: the real one, a set local time on each business day, a set instant running on."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from reminder_pipeline.defs.common.clock import ClockConfig, moving_clock, run_instant


def test_a_moving_clock_starts_at_its_instant_in_utc_and_runs_on() -> None:
    clock = moving_clock("2026-03-10T12:00:00+01:00")
    first = clock()
    time.sleep(0.05)
    second = clock()
    start = datetime(2026, 3, 10, 11, tzinfo=UTC)
    assert first.tzinfo is UTC
    assert start <= first < start + timedelta(seconds=1)
    assert first + timedelta(seconds=0.04) < second < start + timedelta(seconds=5), "it runs on from its start"


@pytest.mark.parametrize("run_at", [None, ""])
def test_without_an_instant_the_moving_clock_is_the_real_clock(run_at: str | None) -> None:
    before = datetime.now(UTC)
    now = moving_clock(run_at)()
    assert before <= now <= datetime.now(UTC)


def test_an_instant_without_its_utc_offset_is_refused() -> None:
    with pytest.raises(ValueError, match=r"run_at '2026-03-10T12:00:00' needs a UTC offset"):
        moving_clock("2026-03-10T12:00:00")


def test_a_run_at_a_local_time_is_that_time_of_the_business_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMINDERS_BUSINESS_TZ", "Europe/Paris")
    assert run_instant(ClockConfig(run_at_local_time="07:30"), date(2026, 7, 1)) == datetime(
        2026, 7, 1, 5, 30, tzinfo=UTC
    )
