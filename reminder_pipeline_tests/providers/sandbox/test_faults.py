"""Fault specs: what they say, what they refuse, and dice that repeat with a seed."""

from __future__ import annotations

import pytest

from reminder_pipeline.providers.sandbox import HEAVY, FaultSpec, FaultSpecError, RateLimit, SandboxControlError
from reminder_pipeline.providers.sandbox.injector import FaultInjector, ProviderName
from reminder_pipeline.providers.sandbox.server import RunningSandbox


def test_a_spec_names_rates_durations_limits_errors_and_a_seed() -> None:
    spec = FaultSpec.parse(
        " error_rate=0.1, timeout_rate=0.2,drop_rate=0.3,latency_ms=50,jitter_ms=25,hold_ms=900,"
        "rate_limit=20/s,sms_error_21610=0.05,email_error_400=0.5,seed=7"
    )
    assert (spec.error_rate, spec.timeout_rate, spec.drop_rate) == (0.1, 0.2, 0.3)
    assert (spec.latency_ms, spec.jitter_ms, spec.hold_ms) == (50, 25, 900)
    assert spec.rate_limit == RateLimit(20, 1.0)
    assert (spec.sms_errors, spec.email_errors, spec.seed) == (((21610, 0.05),), ((400, 0.5),), 7)
    assert FaultSpec.parse(spec.describe()) == spec


def test_no_spec_is_no_faults() -> None:
    assert FaultSpec.parse("") == FaultSpec.parse(" , ") == FaultSpec()
    assert FaultSpec().describe() == ""


def test_the_simulation_names_are_aliases_and_per_minute_limits_read() -> None:
    spec = FaultSpec.parse("provider_error_rate=0.2,provider_timeout_rate=0.1,rate_limit=600/min")
    assert (spec.error_rate, spec.timeout_rate, spec.rate_limit) == (0.2, 0.1, RateLimit(600, 60.0))


def test_heavy_is_a_preset_that_later_names_override() -> None:
    heavy = FaultSpec.parse("heavy")
    assert heavy == FaultSpec.parse(HEAVY)
    assert heavy.error_rate > 0
    assert heavy.timeout_rate > 0
    assert heavy.drop_rate > 0
    assert FaultSpec.parse("heavy,error_rate=0,seed=3") == FaultSpec.parse(HEAVY + ",error_rate=0,seed=3")


def test_names_of_another_component_can_be_skipped() -> None:
    spec = FaultSpec.parse("webhook_loss_rate=0.1,error_rate=0.2", ignore={"webhook_loss_rate"})
    assert spec == FaultSpec(error_rate=0.2)


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("bogus=1", "unknown fault 'bogus'"),
        ("error_rate", "is not name=value"),
        ("error_rate=1.5", "from 0 to 1"),
        ("drop_rate=lots", "from 0 to 1"),
        ("latency_ms=-5", "milliseconds"),
        ("rate_limit=20", "N/s or N/min"),
        ("rate_limit=0/s", "N/s or N/min"),
        ("rate_limit=5/hour", "N/s or N/min"),
        ("seed=abc", "whole number"),
        ("sms_error_99999=0.1", "21610"),
        ("email_error_418=0.1", "413"),
    ],
)
def test_a_bad_spec_says_what_is_wrong(spec: str, says: str) -> None:
    with pytest.raises(FaultSpecError, match=says):
        FaultSpec.parse(spec)


def _draws(spec: FaultSpec) -> list[object]:
    injector = FaultInjector(spec)
    return [
        (injector.server_error(), injector.drops(), injector.injected_error(ProviderName.TWILIO)) for _ in range(50)
    ]


def test_a_seed_repeats_the_draws_and_rates_of_0_and_1_are_certain() -> None:
    spec = FaultSpec.parse("error_rate=0.5,drop_rate=0.5,sms_error_21211=0.5,seed=11")
    assert _draws(spec) == _draws(spec)
    assert len(set(_draws(spec))) > 1
    assert set(_draws(FaultSpec(error_rate=1.0))) == {(True, False, None)}


def test_the_rate_limit_counts_each_provider_apart() -> None:
    injector = FaultInjector(FaultSpec(rate_limit=RateLimit(2, 60.0)))
    assert [injector.rate_limited(ProviderName.TWILIO) is None for _ in range(3)] == [True, True, False]
    assert injector.rate_limited(ProviderName.SENDGRID) is None
    limited = injector.rate_limited(ProviderName.TWILIO)
    assert limited is not None
    assert limited.limit == 2


def test_faults_change_at_run_time_and_a_bad_spec_is_refused(sandbox: RunningSandbox) -> None:
    assert sandbox.control.set_faults("provider_error_rate=0.25,seed=1") == "error_rate=0.25,seed=1"
    assert sandbox.control.faults() == "error_rate=0.25,seed=1"
    with pytest.raises(SandboxControlError, match="unknown fault 'nope'"):
        sandbox.control.set_faults("nope=1")
    assert sandbox.control.faults() == "error_rate=0.25,seed=1"
