"""Web tests: the app on a real uvicorn server, a real ledger (SQLite and PostgreSQL), fresh secrets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.web import create_app
from reminder_pipeline_tests.web.kinds import TEST_HANDLERS
from reminder_pipeline_tests.web.server import RunningApp
from reminder_pipeline_tests.web.signing import MovableClock, Secrets

NOW = datetime(2026, 3, 10, 15, tzinfo=UTC)


@pytest.fixture
def secrets() -> Secrets:
    return Secrets()


@pytest.fixture
def web_clock() -> MovableClock:
    return MovableClock(NOW)


@pytest.fixture
def served(ledger: Ledger, secrets: Secrets, web_clock: MovableClock) -> Iterator[RunningApp]:
    app = create_app(ledger.url, settings=secrets.settings(web_clock), handlers=TEST_HANDLERS)
    with RunningApp(app) as running:
        yield running


@pytest.fixture
def client(served: RunningApp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=30) as http:
        yield http
