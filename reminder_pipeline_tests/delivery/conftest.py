"""Delivery tests: a real ledger (SQLite and PostgreSQL), the provider sandbox on loopback, and the
official SDKs talking to it over HTTP."""

from __future__ import annotations

from datetime import datetime

import pytest

from reminder_pipeline.providers.base import ProviderLimits
from reminder_pipeline.providers.sandbox import SandboxConfig, running_sandbox
from reminder_pipeline.providers.sendgrid import SendGridProvider
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS, SANDBOX_FROM_EMAIL, SANDBOX_FROM_NUMBER
from reminder_pipeline.providers.twilio import TwilioProvider
from reminder_pipeline_tests.delivery.crowd import SEND_AT

LIMITS = ProviderLimits(concurrency=8, per_second=500.0, timeout_seconds=2.0)


@pytest.fixture(autouse=True)
def _no_twilio_host_rewrites(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    monkeypatch.delenv("TWILIO_EDGE", raising=False)


@pytest.fixture
def sandbox(tmp_path):  # type: ignore[no-untyped-def]
    with running_sandbox(SandboxConfig(port=0, log_path=tmp_path / "sandbox_messages.jsonl")) as running:
        yield running


def sendgrid_at(url: str, limits: ProviderLimits = LIMITS, api_key: str | None = None) -> SendGridProvider:
    return SendGridProvider(api_key or DEMO_CREDENTIALS.sendgrid_api_key, SANDBOX_FROM_EMAIL, "Accounts", url, limits)


def twilio_at(url: str, limits: ProviderLimits = LIMITS, token: str | None = None) -> TwilioProvider:
    return TwilioProvider(
        DEMO_CREDENTIALS.twilio_account_sid,
        token or DEMO_CREDENTIALS.twilio_auth_token,
        from_number=SANDBOX_FROM_NUMBER,
        base_url=url,
        status_callback_base="http://127.0.0.1:8000",
        limits=limits,
    )


@pytest.fixture
def email(sandbox) -> SendGridProvider:  # type: ignore[no-untyped-def]
    return sendgrid_at(sandbox.url)


@pytest.fixture
def sms(sandbox) -> TwilioProvider:  # type: ignore[no-untyped-def]
    return twilio_at(sandbox.url)


class Clock:
    """The delivery clock: a fixed instant the test moves on by hand."""

    def __init__(self, now: datetime = SEND_AT) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()
