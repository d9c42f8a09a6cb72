"""Events processed together (``process_events``): one claim and one commit; should anything go wrong,
nothing of the batch is kept and each event is processed alone — a handler that breaks fails its own
event only, one meeting a database error is left ``received``, and nothing is applied twice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, event, select

from reminder_pipeline.ledger.schema import inbound_events
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.inbox import (
    INBOX_LOCK,
    EventSource,
    EventStatus,
    Handler,
    HandlerOutcome,
    InboundEvent,
    process_events,
    store_event,
    store_events,
)
from reminder_pipeline_tests.listening.batches import Effects, event_statuses

NOW = datetime(2026, 3, 10, 9, tzinfo=UTC)


def _stored(ledger: Ledger, count: int) -> list[InboundEvent]:
    with ledger.begin_write(INBOX_LOCK, shared=True) as connection:
        ids = [store_event(connection, EventSource.PAYMENT, f"P-{i}", f"body {i}", NOW) for i in range(count)]
    return [InboundEvent(int(i or 0), EventSource.PAYMENT, f"body {n}", NOW) for n, i in enumerate(ids)]


def test_events_processed_together_each_commit_with_their_effects(ledger: Ledger) -> None:
    events = _stored(ledger, 5)
    handler = Effects()
    results = process_events(ledger, [(e, handler) for e in events], NOW)
    assert [r.status for r in results] == [EventStatus.PROCESSED] * 5
    statuses = event_statuses(ledger)
    assert all(statuses[f"P-{i}"] == EventStatus.PROCESSED for i in range(5))
    assert all(f"effect-of-body {i}" in statuses for i in range(5))
    assert handler.calls == Counter(dict.fromkeys((e.event_id for e in events), 1))


def test_a_handler_that_breaks_undoes_its_own_event_only(ledger: Ledger) -> None:
    events = _stored(ledger, 4)
    handler = Effects(breaks="body 1")
    results = process_events(ledger, [(e, handler) for e in events], NOW)
    assert [r.status for r in results] == [
        EventStatus.PROCESSED,
        EventStatus.FAILED,
        EventStatus.PROCESSED,
        EventStatus.PROCESSED,
    ]
    assert results[1].detail == "the payment handler failed: RuntimeError"
    statuses = event_statuses(ledger)
    assert statuses["P-1"] == EventStatus.FAILED
    assert "effect-of-body 1" not in statuses, "its effect rolled back to its savepoint"
    assert {"effect-of-body 0", "effect-of-body 2", "effect-of-body 3"} <= set(statuses)


def test_an_event_meeting_a_database_error_is_left_received_and_the_others_processed_alone(ledger: Ledger) -> None:
    events = _stored(ledger, 3)
    handler = Effects(database_error="body 1")
    results = process_events(ledger, [(e, handler) for e in events], NOW)
    assert [r.status for r in results] == [EventStatus.PROCESSED, EventStatus.RECEIVED, EventStatus.PROCESSED]
    statuses = event_statuses(ledger)
    assert statuses["P-1"] == EventStatus.RECEIVED, "left for process_pending"
    assert "effect-of-body 1" not in statuses
    assert {"effect-of-body 0", "effect-of-body 2"} <= set(statuses)
    first, failing, last = (e.event_id for e in events)
    assert handler.calls == Counter({first: 2, failing: 2, last: 1}), "the batch undone, then each alone"


def test_events_already_processed_are_not_handled_again(ledger: Ledger) -> None:
    events = _stored(ledger, 3)
    first: Handler = Effects()
    process_events(ledger, [(events[0], first)], NOW)
    again = Effects()
    results = process_events(ledger, [(e, again) for e in [events[0], events[1], events[1], events[2]]], NOW)
    assert [r.status for r in results] == [EventStatus.PROCESSED] * 4
    assert again.calls == Counter({events[1].event_id: 1, events[2].event_id: 1})


def test_events_stored_together_are_each_stored_once_with_their_ids_in_order(ledger: Ledger) -> None:
    with ledger.begin_write(INBOX_LOCK, shared=True) as connection:
        before = store_event(connection, EventSource.PAYMENT, "P-0", "first", NOW)
    given = [(EventSource.PAYMENT, f"P-{i}", f"body {i}") for i in range(150)]
    given += [(EventSource.STRIPE, "P-3", "another source"), (EventSource.PAYMENT, "P-7", "again in the batch")]
    with ledger.begin_write(INBOX_LOCK, shared=True) as connection:
        ids = store_events(connection, given, NOW)
    assert ids[0] is None, "stored before"
    assert ids[-1] is None, "given earlier in the same batch"
    new = [i for i in ids if i is not None]
    assert len(new) == len(set(new)) == 150
    with ledger.begin() as connection:
        rows = connection.execute(select(inbound_events.c.event_id, inbound_events.c.source, inbound_events.c.body))
        stored = {int(event_id): (str(source), str(body)) for event_id, source, body in rows}
    assert stored[int(before or 0)] == ("payment", "first")
    assert [stored[i] for i in new] == [("payment", f"body {i}") for i in range(1, 150)] + [
        ("stripe", "another source")
    ]


def test_events_marked_alike_are_marked_by_one_statement(ledger: Ledger) -> None:
    """An executemany is one statement an event on PostgreSQL: the marks are grouped by status and detail."""
    events = _stored(ledger, 12)

    def outcome(connection: Connection, event: InboundEvent, now: datetime) -> HandlerOutcome:
        number = int(event.body.split()[1])
        if number % 4 == 0:
            return HandlerOutcome(EventStatus.UNMATCHED, "no such invoice")
        return HandlerOutcome(EventStatus.PROCESSED, f"{number % 2} new")

    marks: list[str] = []

    def count_marks(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().startswith("UPDATE inbound_events SET") and "detail=" in statement:
            marks.append(statement)

    event.listen(Engine, "before_cursor_execute", count_marks)  # SQLite writes go through an engine of their own
    try:
        done = process_events(ledger, [(e, outcome) for e in events], NOW)
    finally:
        event.remove(Engine, "before_cursor_execute", count_marks)
    assert len(marks) == 3, "one UPDATE for each (status, detail) the batch's events share"
    assert [d.status for d in done] == [
        EventStatus.UNMATCHED if n % 4 == 0 else EventStatus.PROCESSED for n in range(12)
    ]
    with ledger.begin() as connection:
        rows = connection.execute(select(inbound_events.c.dedupe_key, inbound_events.c.detail)).all()
    assert {str(k): d for k, d in rows} == {
        f"P-{n}": "no such invoice" if n % 4 == 0 else f"{n % 2} new" for n in range(12)
    }
