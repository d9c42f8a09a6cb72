"""An event stored but not processed (a crash, a database hiccup) is processed later, once; and
``reminders serve`` processes what is left at startup."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import Connection, text

from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.inbox import (
    INBOX_LOCK,
    EventSource,
    EventStatus,
    HandlerOutcome,
    InboundEvent,
    process_pending,
    store_event,
)
from reminder_pipeline.web import create_app
from reminder_pipeline_tests.delivery.crowd import people, written_day
from reminder_pipeline_tests.delivery.helpers import rows
from reminder_pipeline_tests.web.kinds import inbox, send
from reminder_pipeline_tests.web.server import RunningApp
from reminder_pipeline_tests.web.signing import MovableClock, Secrets, hmac_header, payment, payment_post

STARTUP_SECONDS = 90


def database_hiccup(connection: Connection, event: InboundEvent, now: datetime) -> HandlerOutcome:
    connection.execute(text("SELECT * FROM no_such_table"))
    raise AssertionError("unreachable")


def test_an_event_whose_processing_did_not_commit_is_processed_by_process_pending(
    ledger: Ledger, tmp_path: Path, secrets: Secrets, web_clock: MovableClock
) -> None:
    written_day(ledger, tmp_path, people(2))
    app = create_app(ledger.url, settings=secrets.settings(web_clock), handlers={EventSource.PAYMENT: database_hiccup})
    with RunningApp(app) as running, httpx.Client(base_url=running.url) as client:
        answer = send(client, payment_post(secrets, payment("P-1", "INV-C00001"), web_clock.now))
    assert answer.status_code == 200, "stored durably: the sender need not retry"
    assert answer.json()["status"] == EventStatus.RECEIVED
    assert rows(ledger)["C00001/email"]["status"] == OutboxStatus.RENDERED
    assert process_pending(ledger, web_clock.now) == {EventStatus.PROCESSED: 1}
    assert rows(ledger)["C00001/email"]["status"] == OutboxStatus.CANCELLED
    assert process_pending(ledger, web_clock.now) == {}
    [event] = inbox(ledger)
    assert event["status"] == EventStatus.PROCESSED


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _wait_healthy(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"reminders serve did not come up (exit code {process.poll()})")


def test_reminders_serve_processes_what_was_left_then_takes_signed_payments_until_sigterm(
    ledger: Ledger, tmp_path: Path, secrets: Secrets
) -> None:
    written_day(ledger, tmp_path, people(2))
    left = json.dumps(payment("P-left", "INV-C00001"))
    with ledger.begin_write(INBOX_LOCK) as connection:
        store_event(connection, EventSource.PAYMENT, "P-left", left, datetime.now().astimezone())
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SENDGRID_", "REMINDERS_"))} | {
        "REMINDERS_PAYMENT_WEBHOOK_SECRET": secrets.payment_secret,
        "REMINDERS_HOME": str(tmp_path / "home"),
    }
    command = [sys.executable, "-m", "reminder_pipeline.cli", "serve", "--port", str(port), "--db", ledger.url]
    process = subprocess.Popen(command, env=environment, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        assert [e["status"] for e in inbox(ledger)] == [EventStatus.PROCESSED]
        assert rows(ledger)["C00001/email"]["status"] == OutboxStatus.CANCELLED
        body = json.dumps(payment("P-2", "INV-C00002")).encode()
        signed = {"X-Reminders-Signature": hmac_header(secrets.payment_secret, body, datetime.now().astimezone())}
        answer = httpx.post(f"{url}/webhooks/payments", content=body, headers=signed)
        assert answer.json()["status"] == EventStatus.PROCESSED
        assert rows(ledger)["C00002/email"]["status"] == OutboxStatus.CANCELLED
        assert httpx.post(f"{url}/webhooks/stripe", content=b"{}").status_code == 503, "no Stripe secret set"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        _, errors = process.communicate()
    assert "now processed: 1 processed" in errors
    assert "REMINDERS_STRIPE_WEBHOOK_SECRET is not set" in errors
    assert secrets.payment_secret not in errors
