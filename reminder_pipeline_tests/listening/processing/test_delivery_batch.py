"""Set-based processing of provider events against one at a time: on random lives of real sent messages
(out of order, duplicated, with failures, opt-outs, async bounces, rows whose send is unknown, unreadable
bodies), the batched handler leaves the ledger exactly as the single handler on each event in turn, and says
the same of every event. Both run on the same ledger state, each in a transaction rolled back afterwards."""

from __future__ import annotations

import json
import logging
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, select, update

from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.ledger.schema import customers, delivery_events, outbox
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.inbox import (
    INBOX_LOCK,
    EventSource,
    EventStatus,
    HandlerOutcome,
    InboundEvent,
    process_events,
    store_events,
)
from reminder_pipeline.providers.sendgrid import SendGridProvider
from reminder_pipeline.providers.twilio import TwilioProvider
from reminder_pipeline_tests.delivery.conftest import Clock
from reminder_pipeline_tests.delivery.crowd import Person
from reminder_pipeline_tests.listening.processing.posts import HANDLERS, sendgrid_event, twilio_status
from reminder_pipeline_tests.listening.processing.sent import Sent, sent_day

S = OutboxStatus
SMS_STATUSES = [
    ("queued", ""),
    ("sending", ""),
    ("sent", ""),
    ("delivered", ""),
    ("read", ""),
    ("undelivered", "30003"),
    ("undelivered", "30007"),
    ("undelivered", "21610"),
    ("failed", "30008"),
    ("failed", "21610"),
    ("failed", "21211"),
    ("canceled", ""),
]
EMAIL_EVENTS: list[dict[str, Any]] = [
    {"event": "processed"},
    {"event": "deferred"},
    {"event": "delivered"},
    {"event": "open"},
    {"event": "click"},
    {"event": "bounce", "type": "bounce", "status": "5.1.1", "reason": "no such user"},
    {"event": "bounce", "type": "blocked", "status": "5.7.1"},
    {"event": "dropped", "reason": "Invalid"},
    {"event": "dropped", "reason": "Unsubscribed Address"},
    {"event": "spamreport"},
    {"event": "unsubscribe"},
]
BEFORE = [S.SENT, S.SENT, S.SENT, S.UNKNOWN, S.UNRESOLVED, S.SENDING, S.DELIVERED]
"""What a row may be when its events come (set in both runs alike)."""
PROVIDER_STATUSES = [None, "accepted", "queued", "sent", "processed", "deferred"]
Setup = dict[str, dict[str, Any]]
"""Values set on rows (by reminder key) before the events come, in both runs alike."""


def _crowd(count: int) -> list[Person]:
    sms = [Person(f"C{i:05d}", "sms", email=f"s{i}@example.com") for i in range(1, count + 1)]
    return sms + [Person(f"C{i:05d}") for i in range(count + 1, 2 * count + 1)]


def _posts(sent: dict[str, Sent], rng: random.Random) -> list[tuple[EventSource, str]]:
    """Inbound events as the inbox hands them over: each Twilio callback once (the inbox deduplicates
    requests), SendGrid events cut into batches anywhere, some events in two batches."""
    twilio: dict[str, str] = {}
    sendgrid: list[dict[str, Any]] = []
    for name, message in sorted(sent.items()):
        if message.channel == "sms":
            for status, code in rng.sample(SMS_STATUSES, rng.randint(1, 4)):
                key = message.reminder_key if rng.random() < 0.9 else None
                body = twilio_status(message.provider_id, status, error_code=code, reminder_key=key)
                twilio.setdefault(f"{message.provider_id}:{status}:{code}", body)
        else:
            for n, step in enumerate(rng.sample(EMAIL_EVENTS, rng.randint(1, 5))):
                key = message.reminder_key if rng.random() < 0.8 else None
                message_id = message.provider_id if rng.random() < 0.9 else None
                fields = {k: v for k, v in step.items() if k != "event"}
                event_id = f"{name}-{n}"
                sendgrid.append(sendgrid_event(step["event"], message_id, key, event_id=event_id, **fields))
    twilio["SMnobody:delivered:"] = twilio_status("SM" + "f" * 32, "delivered")
    sendgrid.append(sendgrid_event("delivered", "nobody-knows-this-one", None, event_id="unmatched-1"))
    sendgrid += [e for e in sendgrid if rng.random() < 0.2]  # SendGrid's own duplicates
    rng.shuffle(sendgrid)
    posts: list[tuple[EventSource, str]] = [(EventSource.TWILIO_STATUS, body) for body in twilio.values()]
    while sendgrid:
        size = rng.randint(1, 6)
        batch, sendgrid = sendgrid[:size], sendgrid[size:]
        posts.append((EventSource.SENDGRID_EVENTS, json.dumps(batch)))
    posts += [(EventSource.SENDGRID_EVENTS, "not json"), (EventSource.TWILIO_STATUS, "MessageSid=&x=1")]
    rng.shuffle(posts)
    return posts


def _snapshot(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row the handlers may write, without ids a sequence hands out or clock columns."""

    def rows(table: Any, order: Any, leave_out: set[str]) -> list[dict[str, Any]]:
        found = connection.execute(select(table).order_by(order)).mappings().all()
        return [{k: v for k, v in r.items() if k not in leave_out} for r in found]

    clocks = {"created_at", "updated_at"}
    events = rows(delivery_events, delivery_events.c.delivery_event_id, {"delivery_event_id"})
    return {
        "outbox": rows(outbox, outbox.c.dedupe_key, clocks | {"outbox_id"}),
        # in stored order for each row (the first final event stored wins), rows in any order
        "delivery_events": sorted(events, key=lambda e: e["outbox_id"] or 0),
        "customers": rows(customers, customers.c.customer_id, clocks),
    }


def _setup(sent: dict[str, Sent], rng: random.Random) -> Setup:
    """Random statuses and provider statuses; two emails made a second row of an SMS customer (whose
    SMS failure then plans a fallback on the channel the email's events may opt them out of)."""
    before: Setup = {}
    for message in sent.values():
        if rng.random() < 0.3:
            before.setdefault(message.reminder_key, {})["status"] = rng.choice(BEFORE).value
        if rng.random() < 0.3:
            before.setdefault(message.reminder_key, {})["provider_status"] = rng.choice(PROVIDER_STATUSES)
    text = sorted(m.customer_id for m in sent.values() if m.channel == "sms")
    mails = sorted((m for m in sent.values() if m.channel == "email"), key=lambda m: m.customer_id)
    for customer_id, mail in zip(text[:2], mails[:2], strict=True):
        before.setdefault(mail.reminder_key, {})["customer_id"] = customer_id
    return before


def _run(
    ledger: Ledger, before: Setup, events: list[InboundEvent], cuts: list[int] | None
) -> tuple[list[HandlerOutcome], dict[str, list[dict[str, Any]]]]:
    """The events through the single handlers one by one (``cuts`` None), or through the batched handler in
    batches cut at ``cuts``; what each event did and the ledger afterwards (then rolled back)."""
    now = events[0].received_at + timedelta(minutes=5)
    with ledger.engine.connect() as connection:
        transaction = connection.begin()
        for key, values in before.items():
            connection.execute(update(outbox).where(outbox.c.dedupe_key == key).values(**values))
        outcomes: list[HandlerOutcome] = []
        if cuts is None:
            outcomes = [HANDLERS[e.source](connection, e, now) for e in events]
        else:
            many = HANDLERS[EventSource.TWILIO_STATUS].many  # type: ignore[attr-defined]
            for start, end in zip([0, *cuts], [*cuts, len(events)], strict=True):
                outcomes += many(connection, events[start:end], now)
        snapshot = _snapshot(connection)
        transaction.rollback()
    return outcomes, snapshot


def test_the_batched_delivery_handler_does_what_the_single_one_does_event_by_event(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, sms: TwilioProvider, clock: Clock
) -> None:
    sent = sent_day(ledger, tmp_path, _crowd(6), email, sms, clock)

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],  # shrinking a ledger's history takes longer than it helps
    )
    @given(st.randoms(use_true_random=False), st.integers(1, 40))
    def check(rng: random.Random, largest: int) -> None:
        posts = _posts(sent, rng)
        events = [InboundEvent(i + 1, s, b, clock.now + timedelta(seconds=i)) for i, (s, b) in enumerate(posts)]
        before = _setup(sent, rng)
        cuts = sorted(rng.sample(range(1, len(events)), min(len(events) - 1, len(events) // largest)))
        one_by_one = _run(ledger, before, events, None)
        together = _run(ledger, before, events, cuts)
        assert together[0] == one_by_one[0], "each event is said to have done the same"
        for table, rows in one_by_one[1].items():
            differ = [(a, b) for a, b in zip(rows, together[1][table], strict=True) if a != b]
            assert not differ, f"{table} differs: {differ[:2]}"

    check()


@pytest.mark.parametrize("size", [1, 2, 5])
def test_a_fallback_planned_before_an_opt_out_of_its_channel_is_cancelled_by_it(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, sms: TwilioProvider, clock: Clock, size: int
) -> None:
    """A failure's follow-up must not see an opt-out that came after it: an SMS fails (an email fallback is
    planned), then the same customer reports an earlier email as spam (the fallback is cancelled). The batch
    applies that customer's events one inbound event after another, with the same result."""
    sent = sent_day(ledger, tmp_path, _crowd(2), email, sms, clock)
    text = sorted((m for m in sent.values() if m.channel == "sms"), key=lambda m: m.customer_id)
    mails = sorted((m for m in sent.values() if m.channel == "email"), key=lambda m: m.customer_id)
    before: Setup = {mail.reminder_key: {"customer_id": t.customer_id} for t, mail in zip(text, mails, strict=True)}
    posts: list[tuple[EventSource, str]] = []
    for message, mail in zip(text, mails, strict=True):
        failed = twilio_status(message.provider_id, "failed", error_code="30008", reminder_key=message.reminder_key)
        spam = sendgrid_event("spamreport", mail.provider_id, mail.reminder_key, event_id=f"spam-{mail.customer_id}")
        posts += [(EventSource.TWILIO_STATUS, failed), (EventSource.SENDGRID_EVENTS, json.dumps([spam]))]
    events = [InboundEvent(i + 1, s, b, clock.now + timedelta(seconds=i)) for i, (s, b) in enumerate(posts)]
    one_by_one = _run(ledger, before, events, None)
    together = _run(ledger, before, events, list(range(size, len(events), size)))
    assert together == one_by_one
    found = {r["dedupe_key"]: r for r in together[1]["outbox"]}
    fallbacks = [found[m.reminder_key.replace("|3:sms", "|5:email")] for m in text]
    assert [r["status"] for r in fallbacks] == [S.CANCELLED] * len(text), "planned, then cancelled by the opt-out"
    assert all("opted out" in r["status_reason"] for r in fallbacks)


def test_provider_events_processed_through_the_inbox_take_the_batched_path(
    ledger: Ledger,
    tmp_path: Path,
    sandbox,
    email: SendGridProvider,
    sms: TwilioProvider,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The inbox hands Twilio callbacks and SendGrid batches to the batched handler together: never the
    fallback of each alone (which would still be right, only slower — and so would go unnoticed)."""
    sent = sent_day(ledger, tmp_path, _crowd(3), email, sms, clock)
    posts = _posts(sent, random.Random(7))
    with ledger.begin_write(INBOX_LOCK, shared=True) as connection:
        ids = store_events(connection, [(s, f"key-{i}", b) for i, (s, b) in enumerate(posts)], clock.now)
    events = [(InboundEvent(int(i or 0), s, b, clock.now), HANDLERS[s]) for i, (s, b) in zip(ids, posts, strict=True)]
    with caplog.at_level(logging.WARNING):
        done = process_events(ledger, events, clock.now)
    assert not [r for r in caplog.records if "not processed together" in r.getMessage()]
    assert {d.status for d in done} >= {EventStatus.PROCESSED, EventStatus.FAILED}, "the unreadable ones failed"
    assert EventStatus.RECEIVED not in {d.status for d in done}
