"""The same callbacks and events, duplicated and shuffled (batches cut anywhere): every final status is
right, every failure has exactly one follow-up, and nothing is stored twice."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from reminder_pipeline.core.outbox import OUTBOX_LOCK, OutboxStatus
from reminder_pipeline.ledger.schema import delivery_events
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.delivery_events import settle_pending
from reminder_pipeline.listening.inbox import EventSource
from reminder_pipeline.providers.sendgrid import SendGridProvider
from reminder_pipeline.providers.twilio import TwilioProvider
from reminder_pipeline_tests.delivery.conftest import Clock
from reminder_pipeline_tests.delivery.crowd import POLICY, Person
from reminder_pipeline_tests.delivery.helpers import rows
from reminder_pipeline_tests.listening.processing.posts import post, sendgrid_event, twilio_status
from reminder_pipeline_tests.listening.processing.sent import Sent, sent_day

S = OutboxStatus
SMS_LIVES: list[tuple[list[tuple[str, str]], str]] = [
    ([("queued", ""), ("sent", ""), ("delivered", "")], S.DELIVERED),
    ([("sending", ""), ("sent", ""), ("delivered", ""), ("read", "")], S.DELIVERED),
    ([("queued", ""), ("sent", ""), ("undelivered", "30005")], S.FAILED),
    ([("queued", ""), ("failed", "30008")], S.FAILED),
    ([("sent", ""), ("undelivered", "30007")], S.FAILED),
]
EMAIL_LIVES: list[tuple[list[dict[str, Any]], str]] = [
    ([{"event": "processed"}, {"event": "delivered"}], S.DELIVERED),
    ([{"event": "processed"}, {"event": "delivered"}, {"event": "open"}, {"event": "click"}], S.DELIVERED),
    ([{"event": "processed"}, {"event": "deferred"}, {"event": "delivered"}, {"event": "open"}], S.DELIVERED),
    ([{"event": "processed"}, {"event": "bounce", "type": "bounce", "status": "5.1.1"}], S.FAILED),
    ([{"event": "processed"}, {"event": "deferred"}, {"event": "bounce", "type": "blocked"}], S.FAILED),
    ([{"event": "processed"}, {"event": "dropped", "reason": "Invalid"}], S.FAILED),
]


def _crowd(count: int) -> list[Person]:
    sms = [Person(f"C{i:05d}", "sms", email=f"s{i}@example.com") for i in range(1, count + 1)]
    return sms + [Person(f"C{i:05d}") for i in range(count + 1, 2 * count + 1)]


Post = tuple[EventSource, str | None, str]


def _posts(sent: dict[str, Sent], rng: random.Random) -> tuple[list[Post], dict[str, str], int]:
    """Every post to make, shuffled with duplicates; the expected status of each row; the distinct events."""
    twilio: list[tuple[str, str]] = []
    sendgrid: list[dict[str, Any]] = []
    expected: dict[str, str] = {}
    for name, message in sorted(sent.items()):
        if message.channel == "sms":
            life, expected[name] = rng.choice(SMS_LIVES)
            for status, code in life:
                body = twilio_status(message.provider_id, status, error_code=code, reminder_key=message.reminder_key)
                twilio.append((f"{message.provider_id}:{status}:{code}", body))
        else:
            steps, expected[name] = rng.choice(EMAIL_LIVES)
            for n, step in enumerate(steps):
                key = message.reminder_key if rng.random() < 0.8 else None  # async bounces may lack custom args
                event_id = f"{message.provider_id}-{n}"
                fields = {k: v for k, v in step.items() if k != "event"}
                sendgrid.append(sendgrid_event(step["event"], message.provider_id, key, event_id=event_id, **fields))
    distinct = len(twilio) + len(sendgrid)
    twilio = [t for t in twilio for _ in range(rng.choice([1, 1, 2, 3]))]
    sendgrid = [e for e in sendgrid for _ in range(rng.choice([1, 1, 2, 3]))]
    rng.shuffle(twilio)
    rng.shuffle(sendgrid)
    posts: list[Post] = [(EventSource.TWILIO_STATUS, key, body) for key, body in twilio]
    while sendgrid:
        size = rng.randint(1, 6)
        batch, sendgrid = sendgrid[:size], sendgrid[size:]
        posts.append((EventSource.SENDGRID_EVENTS, None, json.dumps(batch)))  # keyed by its sha256
    rng.shuffle(posts)
    return posts, expected, distinct


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_duplicated_and_shuffled_events_end_in_the_right_final_status(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, sms: TwilioProvider, clock: Clock, seed: int
) -> None:
    rng = random.Random(seed)
    sent = sent_day(ledger, tmp_path, _crowd(10), email, sms, clock)
    posts, expected, distinct = _posts(sent, rng)
    for source, key, body in posts:
        clock.now += timedelta(seconds=1)
        post(ledger, source, body, clock.now, key=key)
    with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
        late = settle_pending(connection, POLICY, clock.now)
    assert not late.moved, "every row was settled by its own events"
    after = rows(ledger)
    assert {name: after[name]["status"] for name in expected} == expected
    follow_ups = Counter(
        r["dedupe_key"].rsplit("|", 1)[0] for r in after.values() if r["status"] in ("planned", "task_open")
    )
    failed = {after[name]["dedupe_key"].rsplit("|", 1)[0] for name, status in expected.items() if status == S.FAILED}
    assert follow_ups == dict.fromkeys(failed, 1)
    for name, status in expected.items():
        if status == S.FAILED and name.endswith("/sms"):
            assert after[name.replace("/sms", "/email")]["status"] == S.PLANNED
        elif status == S.FAILED:
            assert after[name.replace("/email", "/collector")]["status"] == S.TASK_OPEN
    with ledger.begin() as connection:
        stored = connection.execute(select(func.count()).select_from(delivery_events)).scalar_one()
        assert stored == distinct
