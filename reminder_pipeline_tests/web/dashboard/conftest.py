"""Dashboard tests: the app on a real uvicorn server over a small real ledger, with users of each role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from reminder_pipeline.collections import users
from reminder_pipeline.collections.users import Role, add_user
from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.web import create_app
from reminder_pipeline.web.dashboard.settings import DashboardSettings
from reminder_pipeline_tests.ingestion.helpers import ingest_file, write_csv
from reminder_pipeline_tests.web.server import RunningApp
from reminder_pipeline_tests.web.signing import MovableClock, Secrets

DAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 15, tzinfo=UTC)
PASSWORD = "correct horse battery"
FAST = DashboardSettings(
    session_secret="a-test-session-secret",
    cookie_secure=False,
    poll_seconds=0.2,
    stream_seconds=3.0,
)


CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
"""Argon2 at test strength: the shipped parameters cost about 0.15 s a hash and as much a login, a second
or more per dashboard test. A hash carries its parameters, so logins check these test users cheaply; the
shipped ones are tested in ``reminder_pipeline_tests/collections``."""


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "_HASHER", CHEAP_HASHER)


def seed(ledger: Ledger, folder: Path) -> None:
    """Three customers: A owes 100 EUR 8 days late, B owes 300 USD 15 days late, C owes 50 EUR due later."""
    customers = write_csv(
        folder / "customers.csv",
        "customer_id,name,email,country,time_zone,locale,preferred_channel\n"
        "A,Anna Schmidt,anna@example.com,DE,Europe/Berlin,de_DE,email\n"
        "B,Bob Jones,bob@example.com,US,America/New_York,en_US,email\n"
        "C,Chloé Martin,chloe@example.com,FR,Europe/Paris,fr_FR,email",
    )
    invoices = write_csv(
        folder / "invoices.csv",
        "invoice_id,customer_id,issue_date,due_date,amount,currency\n"
        f"A-1,A,2026-01-10,{DAY - timedelta(days=8)},100.00,EUR\n"
        f"B-1,B,2026-01-01,{DAY - timedelta(days=15)},300.00,USD\n"
        f"C-1,C,2026-03-01,{DAY + timedelta(days=20)},50.00,EUR",
    )
    ingest_file(ledger, customers, Entity.CUSTOMERS)
    ingest_file(ledger, invoices, Entity.INVOICES)
    for name, role in (("cora", Role.COLLECTOR), ("vic", Role.VIEWER), ("ada", Role.ADMIN)):
        add_user(ledger, name, PASSWORD, role)


@dataclass
class Board:
    url: str
    ledger: Ledger
    secrets: Secrets
    clock: MovableClock


@pytest.fixture
def board(ledger: Ledger, tmp_path: Path) -> Iterator[Board]:
    seed(ledger, tmp_path)
    secrets = Secrets()
    clock = MovableClock(NOW)
    app = create_app(ledger.url, settings=secrets.settings(clock), dashboard=FAST)
    with RunningApp(app) as running:
        yield Board(running.url, ledger, secrets, clock)


def login(url: str, username: str, password: str = PASSWORD) -> httpx.Client:
    """A client holding a session of ``username``."""
    client = httpx.Client(base_url=url, timeout=30, follow_redirects=False)
    form = client.get("/login")
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post("/login", data={"csrf_token": token, "username": username, "password": password, "next": "/"})
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(page: str) -> str:
    return page.split('name="csrf-token" content="')[1].split('"')[0]
