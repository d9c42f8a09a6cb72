"""A sandbox per test (any free port, the demo credentials) and no Twilio region or edge from the environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reminder_pipeline.providers.sandbox import RunningSandbox, SandboxConfig, running_sandbox
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS


@pytest.fixture(autouse=True)
def _no_twilio_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    monkeypatch.delenv("TWILIO_EDGE", raising=False)


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(SandboxConfig(credentials=DEMO_CREDENTIALS)) as running:
        yield running
