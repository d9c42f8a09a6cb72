"""The faults SPEC of ``reminders simulate``: read, refused, passed on to the sandbox, and placed in time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from reminder_pipeline.providers.sandbox import FaultSpec
from reminder_pipeline.simulation.clock import FIRST_DAY, is_business_day
from reminder_pipeline.simulation.faults import FaultPlan, FaultPlanError, schedule_faults


def _days(count: int) -> list[date]:
    return [FIRST_DAY + timedelta(days=i) for i in range(count)]


def test_heavy_names_every_fault_and_later_names_override_it() -> None:
    heavy = FaultPlan.parse("heavy")
    assert heavy.provider_error_rate > 0
    assert heavy.provider_timeout_rate > 0
    assert heavy.webhook_loss_rate > 0
    assert heavy.webhook_duplicate_rate > 0
    assert heavy.kill_delivery
    assert heavy.db_restart
    assert heavy.outage_days
    changed = FaultPlan.parse("heavy,outage_days=0,provider_error_rate=0.2")
    assert changed.outage_days == 0
    assert changed.provider_error_rate == 0.2
    assert changed.kill_delivery == heavy.kill_delivery


def test_the_sandbox_gets_the_provider_and_webhook_faults_the_world_and_the_seed() -> None:
    plan = FaultPlan.parse("provider_error_rate=0.1,provider_timeout_rate=0.05,webhook_loss_rate=0.2,latency_ms=5")
    spec = FaultSpec.parse(plan.sandbox_spec(seed=11))
    assert (spec.error_rate, spec.timeout_rate, spec.webhook_loss_rate, spec.latency_ms) == (0.1, 0.05, 0.2, 5.0)
    assert spec.seed == 11
    assert spec.bounce_rate == 0.02
    assert spec.undelivered_rate == 0.02
    assert FaultSpec.parse(FaultPlan.parse("bounce_rate=0.1").sandbox_spec(1)).bounce_rate == 0.1


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("bogus", "'bogus' is not name=value"),
        ("provider_error_rate=2", "a rate is a number from 0 to 1"),
        ("kill_delivery=-1", "a whole number"),
        ("outage_days=lots", "a whole number"),
        ("seed=3", "--seed"),
        ("no_such_fault=1", "unknown fault 'no_such_fault'"),
        ("error_rate=2", "error_rate=2"),
    ],
)
def test_a_bad_spec_is_refused_saying_what_is_wrong(spec: str, says: str) -> None:
    with pytest.raises(FaultPlanError, match=says):
        FaultPlan.parse(spec)


def test_no_faults_is_nothing_at_all() -> None:
    plan = FaultPlan.parse("")
    assert plan == FaultPlan()
    schedule = schedule_faults(plan, _days(10))
    assert schedule.outage == ()
    assert schedule.kill_days == ()
    assert schedule.restart_days == ()


def test_an_outage_has_live_business_days_before_and_after_it() -> None:
    days = _days(30)
    schedule = schedule_faults(FaultPlan.parse("outage_days=3"), days)
    assert len(schedule.outage) == 3
    assert schedule.outage == tuple(schedule.outage[0] + timedelta(days=i) for i in range(3))
    assert any(is_business_day(d) for d in days if d < schedule.outage[0])
    assert schedule.recovery_day is not None
    assert any(is_business_day(d) for d in days if d >= schedule.recovery_day)


def test_an_outage_that_does_not_fit_is_refused() -> None:
    with pytest.raises(FaultPlanError, match="does not fit in 4 days"):
        schedule_faults(FaultPlan.parse("outage_days=4"), _days(4))


def test_kills_and_restarts_fall_on_live_business_days_after_the_first() -> None:
    days = _days(40)
    schedule = schedule_faults(FaultPlan.parse("kill_delivery=3,db_restart=2,outage_days=2"), days)
    assert len(schedule.kill_days) == 3
    assert len(schedule.restart_days) == 2
    first = next(d for d in days if is_business_day(d))
    for day in (*schedule.kill_days, *schedule.restart_days):
        assert is_business_day(day)
        assert day != first
        assert day not in schedule.outage
        assert day != schedule.recovery_day
