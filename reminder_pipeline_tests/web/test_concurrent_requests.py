"""Many signed requests at once (the app stores and processes those that arrive together in one go):
each is answered with what became of its own event, each payment is applied once, retries are no-ops."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.inbox import EventStatus
from reminder_pipeline.web import create_app
from reminder_pipeline_tests.delivery.crowd import people, written_day
from reminder_pipeline_tests.delivery.helpers import rows
from reminder_pipeline_tests.web.kinds import HELP_TWIML, TEST_HANDLERS, inbox, send
from reminder_pipeline_tests.web.server import RunningApp
from reminder_pipeline_tests.web.signing import (
    MovableClock,
    Post,
    Secrets,
    inbound_sms,
    payment,
    payment_post,
    twilio_post,
)

CUSTOMERS = 30
SENDERS = 24


def _answers(url: str, posts: list[Post]) -> list[httpx.Response]:
    local = threading.local()

    def post(one: Post) -> httpx.Response:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=url, timeout=60)
        return send(local.client, one)

    with ThreadPoolExecutor(SENDERS) as pool:
        return list(pool.map(post, posts))


def test_payments_and_replies_posted_at_once_are_each_answered_for_themselves_and_applied_once(
    ledger: Ledger, tmp_path: Path, secrets: Secrets, web_clock: MovableClock
) -> None:
    crowd = people(CUSTOMERS)
    written_day(ledger, tmp_path, crowd)
    payments = [
        payment_post(secrets, payment(f"P-{p.customer_id}", f"INV-{p.customer_id}"), web_clock.now) for p in crowd
    ]
    helps = [
        twilio_post(secrets, "/webhooks/twilio/inbound", inbound_sms(f"SM{n:032x}", text="HELP")) for n in range(10)
    ]
    posts = payments * 3 + helps + helps
    app = create_app(ledger.url, settings=secrets.settings(web_clock), handlers=TEST_HANDLERS)
    with RunningApp(app) as running:
        answers = _answers(running.url, posts)
    assert [a.status_code for a in answers] == [200] * len(posts)
    paid = Counter(a.json()["status"] for a in answers[: len(payments) * 3])
    assert paid == {EventStatus.PROCESSED: CUSTOMERS, "duplicate": 2 * CUSTOMERS}
    replies = [a.text for a in answers[len(payments) * 3 :]]
    assert replies.count(HELP_TWIML) == 10, "each HELP answered once with its TwiML; its retry gets an empty reply"
    assert {e["status"] for e in inbox(ledger)} == {EventStatus.PROCESSED}
    assert len(inbox(ledger)) == CUSTOMERS + 10
    assert {r["status"] for r in rows(ledger).values()} == {OutboxStatus.CANCELLED}
    assert not [t for t in threading.enumerate() if t.name == "webhook-writer"], "the writer stops with the app"
