"""The webhook promises of ../shared/DESIGN.md on the batched path itself (one ``many`` call for the whole
run), not only through its likeness to the one-by-one path: an event about a message the ledger does not
know is acknowledged and kept, the same event again is a no-op, and a row's status never moves back."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, select

from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.ledger.schema import delivery_events
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.batched import BatchedHandler
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
from reminder_pipeline_tests.delivery.helpers import rows
from reminder_pipeline_tests.listening.processing.posts import HANDLERS, sendgrid_event, twilio_status
from reminder_pipeline_tests.listening.processing.sent import sent_day

S = OutboxStatus


def _never_alone(connection: Connection, event: InboundEvent, now: datetime) -> HandlerOutcome:
    """The handler of one event alone: called only when the run was undone (then its event fails)."""
    raise AssertionError("the batched run was undone")


def test_unknown_messages_repeats_and_late_events_on_the_batched_path(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, sms: TwilioProvider, clock: Clock
) -> None:
    sent = sent_day(ledger, tmp_path, [Person("C00001", "sms"), Person("C00002")], email, sms, clock)
    text, mail = sent["C00001/sms"], sent["C00002/email"]
    delivered = twilio_status(text.provider_id, "delivered", reminder_key=text.reminder_key)
    bounce = sendgrid_event("bounce", mail.provider_id, mail.reminder_key, event_id="bounce-1", type="bounce")
    nobody = sendgrid_event("delivered", "nobody", None, event_id="nobody-1")
    posts = [
        (EventSource.TWILIO_STATUS, delivered),
        (EventSource.TWILIO_STATUS, twilio_status(text.provider_id, "sent", reminder_key=text.reminder_key)),
        (EventSource.TWILIO_STATUS, twilio_status("SM" + "f" * 32, "delivered")),
        (EventSource.SENDGRID_EVENTS, json.dumps([sendgrid_event("delivered", mail.provider_id, mail.reminder_key)])),
        (EventSource.SENDGRID_EVENTS, json.dumps([bounce])),
        (EventSource.SENDGRID_EVENTS, json.dumps([bounce, nobody])),
        (EventSource.TWILIO_STATUS, delivered),  # the same callback again (another request: the inbox let it in)
    ]
    with ledger.begin_write(INBOX_LOCK, shared=True) as connection:
        ids = store_events(connection, [(s, f"key-{i}", b) for i, (s, b) in enumerate(posts)], clock.now)
    runs: list[int] = []

    def many(connection: Connection, events: Sequence[InboundEvent], now: datetime) -> list[HandlerOutcome]:
        runs.append(len(events))
        return HANDLERS[EventSource.TWILIO_STATUS].many(connection, events, now)  # type: ignore[attr-defined]

    batched = {s: BatchedHandler(_never_alone, many, "delivery_events") for s, _ in posts}
    events = [(InboundEvent(int(i or 0), s, b, clock.now), batched[s]) for i, (s, b) in zip(ids, posts, strict=True)]
    done = process_events(ledger, events, clock.now)

    assert runs == [len(posts)], "the whole run went to the batched handler once"
    assert [d.status for d in done] == [
        EventStatus.PROCESSED,
        EventStatus.PROCESSED,
        EventStatus.UNMATCHED,
        EventStatus.PROCESSED,
        EventStatus.PROCESSED,
        EventStatus.UNMATCHED,
        EventStatus.IGNORED,
    ]
    assert done[5].detail.startswith("1 new, 1 duplicate, 1 unmatched"), "the bounce again is a no-op"
    assert done[6].detail.startswith("0 new, 1 duplicate"), "so is the callback again"
    after = rows(ledger)
    assert (after["C00001/sms"]["status"], after["C00001/sms"]["provider_status"]) == (S.DELIVERED, "delivered")
    assert after["C00002/email"]["status"] == S.DELIVERED, "a bounce after delivered never moves it back"
    with ledger.begin() as connection:
        stored = connection.execute(select(delivery_events.c.provider_event_id, delivery_events.c.outbox_id)).all()
    unlinked = {event_id for event_id, outbox_id in stored if outbox_id is None}
    assert unlinked == {"SM" + "f" * 32 + ":delivered:", "nobody-1"}, "the events about no known message are kept"
    assert len(stored) == 6, "each provider event stored once"
