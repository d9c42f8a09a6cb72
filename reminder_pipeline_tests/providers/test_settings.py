"""Provider settings from the environment (DESIGN.md's names) and the sandbox's environment."""

from __future__ import annotations

import re

from reminder_pipeline.providers.settings import (
    DEFAULT_SENDGRID_BASE_URL,
    DEFAULT_TWILIO_BASE_URL,
    DEMO_CREDENTIALS,
    SandboxCredentials,
    sandbox_credentials,
    sandbox_environment,
    sendgrid_settings,
    twilio_settings,
)


def test_the_sandbox_environment_points_both_sdks_at_the_sandbox_with_fake_credentials() -> None:
    env = sandbox_environment("http://127.0.0.1:8765/")
    assert env["REMINDERS_SENDGRID_BASE_URL"] == env["REMINDERS_TWILIO_BASE_URL"] == "http://127.0.0.1:8765"
    assert env["SENDGRID_API_KEY"].startswith("SG.sandbox")
    assert re.fullmatch(r"AC[0-9a-f]{32}", env["TWILIO_ACCOUNT_SID"])
    assert env["TWILIO_FROM_NUMBER"] == "+15005550006"
    assert env["REMINDERS_PUBLIC_URL"] == "http://127.0.0.1:8000"
    sendgrid, twilio = sendgrid_settings(env), twilio_settings(env)
    assert sendgrid is not None
    assert sendgrid.base_url == "http://127.0.0.1:8765"
    assert twilio is not None
    assert twilio.status_callback_base == "http://127.0.0.1:8000"
    assert sandbox_credentials(env) == DEMO_CREDENTIALS


def test_settings_default_to_the_real_apis_and_need_their_secrets() -> None:
    env = {"SENDGRID_API_KEY": "SG.k", "SENDGRID_FROM_EMAIL": "a@example.com"}
    settings = sendgrid_settings(env)
    assert settings is not None
    assert (settings.base_url, settings.from_name) == (DEFAULT_SENDGRID_BASE_URL, None)
    assert sendgrid_settings({"SENDGRID_API_KEY": "SG.k"}) is None
    assert twilio_settings({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"}) is None  # no sender
    service = twilio_settings(
        {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_MESSAGING_SERVICE_SID": "MG1"}
    )
    assert service is not None
    assert (service.messaging_service_sid, service.base_url) == ("MG1", DEFAULT_TWILIO_BASE_URL)


def test_the_sandbox_takes_each_providers_credentials_from_the_environment_when_complete() -> None:
    assert sandbox_credentials({}) == DEMO_CREDENTIALS
    assert sandbox_credentials({"SENDGRID_API_KEY": "SG.mine", "TWILIO_ACCOUNT_SID": "AC9"}) == SandboxCredentials(
        "SG.mine", DEMO_CREDENTIALS.twilio_account_sid, DEMO_CREDENTIALS.twilio_auth_token
    )
    both = {"TWILIO_ACCOUNT_SID": "AC9", "TWILIO_AUTH_TOKEN": "tok"}
    assert sandbox_credentials(both) == SandboxCredentials(DEMO_CREDENTIALS.sendgrid_api_key, "AC9", "tok")
