"""Runs of events handed to a batched handler (``BatchedHandler``) in one call by ``process_events``:
consecutive events of one group together, every other event alone; a poisonous event in a run undoes
the run and then fails alone, the others processed one by one; nothing applied twice."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection

from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.batched import BatchedHandler
from reminder_pipeline.listening.inbox import (
    INBOX_LOCK,
    EventSource,
    EventStatus,
    HandlerOutcome,
    InboundEvent,
    process_events,
    store_event,
    store_events,
)
from reminder_pipeline_tests.listening.batches import Effects, event_statuses

NOW = datetime(2026, 3, 10, 9, tzinfo=UTC)


class Batched(Effects):
    """:class:`Effects` one by one, and the same for many at once (recording each call's size)."""

    def __init__(self, breaks: str = "") -> None:
        super().__init__(breaks)
        self.runs: list[int] = []

    def many(self, connection: Connection, events: Sequence[InboundEvent], now: datetime) -> list[HandlerOutcome]:
        self.runs.append(len(events))
        return [self(connection, event, now) for event in events]

    def handler(self) -> BatchedHandler:
        return BatchedHandler(self, self.many, "effects")


def _stored(ledger: Ledger, sources: list[EventSource]) -> list[InboundEvent]:
    items = [(source, f"{source}-{i}", f"body {i}") for i, source in enumerate(sources)]
    with ledger.begin_write(INBOX_LOCK, shared=True) as connection:
        ids = store_events(connection, items, NOW)
    return [InboundEvent(int(i or 0), s, body, NOW) for (s, _, body), i in zip(items, ids, strict=True)]


def test_consecutive_events_of_a_group_go_to_its_batched_handler_in_one_call(
    ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    batched, alone = Batched(), Effects()
    sources = [EventSource.PAYMENT] * 3 + [EventSource.TWILIO_INBOUND] + [EventSource.STRIPE] * 2
    events = _stored(ledger, sources)
    handlers = {EventSource.PAYMENT: batched.handler(), EventSource.STRIPE: batched.handler()}
    chosen = [(e, handlers.get(e.source, alone)) for e in events]
    with caplog.at_level(logging.WARNING):
        done = process_events(ledger, chosen, NOW)
    assert [d.status for d in done] == [EventStatus.PROCESSED] * len(events)
    assert batched.runs == [3, 2], "a group's run is cut by an event of another handler"
    assert alone.calls == Counter({events[3].event_id: 1})
    assert not caplog.records, "processed together, never alone"
    statuses = event_statuses(ledger)
    assert {statuses[f"{s}-{i}"] for i, s in enumerate(sources)} == {EventStatus.PROCESSED}


def test_a_poisonous_event_in_a_run_fails_alone_and_the_others_are_processed(ledger: Ledger) -> None:
    batched = Batched(breaks="body 2")
    events = _stored(ledger, [EventSource.PAYMENT] * 5)
    done = process_events(ledger, [(e, batched.handler()) for e in events], NOW)
    assert [d.status for d in done] == [EventStatus.PROCESSED] * 2 + [EventStatus.FAILED] + [EventStatus.PROCESSED] * 2
    assert "RuntimeError" in done[2].detail
    assert batched.runs == [5], "the run was tried together once, then each event alone"
    statuses = event_statuses(ledger)
    assert statuses["payment-2"] == EventStatus.FAILED
    effects = {k: v for k, v in statuses.items() if k.startswith("effect-of-")}
    assert sorted(effects) == [f"effect-of-body {i}" for i in (0, 1, 3, 4)], "the poisonous event's effect undone"


def test_a_batched_handler_answering_too_few_outcomes_undoes_the_run(ledger: Ledger) -> None:
    batched = Batched()
    events = _stored(ledger, [EventSource.PAYMENT] * 3)

    def short(connection: Connection, given: Sequence[InboundEvent], now: datetime) -> list[HandlerOutcome]:
        return batched.many(connection, given, now)[:-1]

    done = process_events(ledger, [(e, BatchedHandler(batched, short, "effects")) for e in events], NOW)
    assert [d.status for d in done] == [EventStatus.PROCESSED] * 3
    assert all(n == 2 for n in batched.calls.values()), "tried together (undone), then each alone"
    with ledger.begin_write(INBOX_LOCK, shared=True) as connection:
        assert store_event(connection, EventSource.BROKER, "effect-of-body 0", "x", NOW) is None, "applied once"
