"""An event stored but not processed (a crash, a database hiccup) is processed later, once; and
``reminders serve`` processes what is left at startup."""

from __future__ import annotations

import json
import signal
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
from reminder_pipeline_tests.web.server import RunningApp, free_port, start_serve, wait_healthy
from reminder_pipeline_tests.web.signing import MovableClock, Secrets, payment, payment_post


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


def test_reminders_serve_processes_what_was_left_then_takes_signed_payments_until_sigterm(
    ledger: Ledger, tmp_path: Path, secrets: Secrets
) -> None:
    written_day(ledger, tmp_path, people(2))
    left = json.dumps(payment("P-left", "INV-C00001"))
    with ledger.begin_write(INBOX_LOCK) as connection:
        store_event(connection, EventSource.PAYMENT, "P-left", left, datetime.now().astimezone())
    port = free_port()
    process = start_serve(ledger.url, tmp_path / "home", secrets.payment_secret, port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        assert [e["status"] for e in inbox(ledger)] == [EventStatus.PROCESSED]
        assert rows(ledger)["C00001/email"]["status"] == OutboxStatus.CANCELLED
        post = payment_post(secrets, payment("P-2", "INV-C00002"), datetime.now().astimezone())
        answer = httpx.post(url + post.path, content=post.body, headers=post.headers)
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
