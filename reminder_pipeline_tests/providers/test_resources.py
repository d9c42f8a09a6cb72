"""The Dagster resources: secrets through dg.EnvVar, resolved when a run starts, providers at the base URL."""

from __future__ import annotations

import dagster as dg
import pytest

from reminder_pipeline.providers.base import SendOutcome
from reminder_pipeline.providers.resources import (
    SENDGRID_ACTIVITY_LAG_SECONDS,
    SendGridResource,
    TwilioResource,
    sendgrid_resource_from_environment,
    twilio_resource_from_environment,
)
from reminder_pipeline.providers.sandbox import RunningSandbox
from reminder_pipeline.providers.settings import sandbox_environment
from reminder_pipeline_tests.providers.helpers import email, sms


@pytest.fixture
def no_provider_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in sandbox_environment("http://x"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_provider_settings")
def test_definitions_load_without_any_provider_setting() -> None:
    resources = {"sendgrid": sendgrid_resource_from_environment(), "twilio": twilio_resource_from_environment()}
    defs = dg.Definitions(resources=resources)
    dg.Definitions.validate_loadable(defs)


@pytest.mark.usefixtures("no_provider_settings")
def test_the_resources_send_through_the_sandbox_named_by_the_environment(
    sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in sandbox_environment(sandbox.url).items():
        monkeypatch.setenv(name, value)
    resources = {"sendgrid": sendgrid_resource_from_environment(), "twilio": twilio_resource_from_environment()}
    with dg.build_resources(resources) as built:
        sendgrid, twilio = built.sendgrid.provider(), built.twilio.provider()
    assert (sendgrid.base_url, sendgrid.from_name) == (sandbox.url, "Accounts Receivable (sandbox)")
    assert sendgrid.send(email()).outcome is SendOutcome.ACCEPTED
    assert twilio.send(sms()).outcome is SendOutcome.ACCEPTED
    assert {m["channel"] for m in sandbox.control.messages()} == {"email", "sms"}


@pytest.mark.usefixtures("no_provider_settings")
def test_a_missing_secret_fails_when_the_run_starts_and_limits_come_from_config() -> None:
    with (
        pytest.raises(Exception, match="SENDGRID_API_KEY"),
        dg.build_resources({"sendgrid": sendgrid_resource_from_environment()}),
    ):
        pass
    resource = SendGridResource(api_key="SG.k", from_email="a@example.com", concurrency=4, per_second=9.5)
    assert (resource.limits().concurrency, resource.limits().per_second) == (4, 9.5)
    assert resource.limits().lookup_delay_seconds == SENDGRID_ACTIVITY_LAG_SECONDS  # the real feed lags
    local = SendGridResource(api_key="SG.k", from_email="a@example.com", base_url="http://127.0.0.1:8765")
    assert local.limits().lookup_delay_seconds == 0.0
    twilio = TwilioResource(account_sid="AC1", auth_token="t", from_number="+15005550006")
    with pytest.raises(ValueError, match="REMINDERS_PUBLIC_URL"):
        twilio.provider()
