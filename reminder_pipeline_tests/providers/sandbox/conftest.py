"""A receiver of webhooks, and sandboxes that post to it quickly (short batches and backoffs)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from reminder_pipeline.providers.sandbox import RunningSandbox, SandboxConfig, running_sandbox
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS
from reminder_pipeline_tests.providers.sandbox.receiver import Receiver, receiving

EVENTS_PATH = "/webhooks/sendgrid/events"
INBOUND_SMS_PATH = "/webhooks/twilio/inbound"
INBOUND_EMAIL_PATH = "/webhooks/sendgrid/inbound"
STATUS_PATH = "/webhooks/twilio/status"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


@contextmanager
def posting_to(receiver: Receiver, faults: str = "", **config: Any) -> Iterator[RunningSandbox]:
    """A sandbox whose configured webhooks all go to ``receiver``, retrying after 20 ms."""
    settings: dict[str, Any] = {
        "credentials": DEMO_CREDENTIALS,
        "faults": faults,
        "sendgrid_events_url": receiver.url(EVENTS_PATH),
        "twilio_inbound_url": receiver.url(INBOUND_SMS_PATH),
        "sendgrid_inbound_url": receiver.url(INBOUND_EMAIL_PATH),
        "webhook_backoff_seconds": 0.02,
        "event_batch_seconds": 0.02,
        **config,
    }
    with running_sandbox(SandboxConfig(**settings)) as sandbox:
        yield sandbox


@pytest.fixture
def hooked(receiver: Receiver) -> Iterator[RunningSandbox]:
    with posting_to(receiver) as sandbox:
        yield sandbox
