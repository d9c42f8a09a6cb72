"""The inbox's batch writes store and mark as :func:`store_event` and :func:`mark` one by one would."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, select

from reminder_pipeline.core.outbox import OUTBOX_LOCK
from reminder_pipeline.ledger.schema import inbound_events
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.inbox import EventSource, EventStatus, mark, store_event
from reminder_pipeline.listening.inbox_batch import mark_many, store_events

NOW = datetime(2026, 3, 10, 9, 30, 15, 123456, tzinfo=UTC)
LATER = datetime(2026, 3, 10, 9, 31, tzinfo=UTC)

items = st.lists(st.tuples(st.sampled_from(["P-1", "P-2", "P-3", "P-old"]), st.sampled_from(["{}", '{"a": 1}'])))
statuses = st.sampled_from(list(EventStatus))
details = st.sampled_from(["", "3 pending reminders cancelled", "refused: write to anna@example.com"])


class _Undo(Exception):
    """Raised to roll a write transaction back once its effects are read."""


def _rows(connection: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in connection.execute(select(inbound_events).order_by(inbound_events.c.event_id)).mappings()]


def _written(ledger: Ledger, write: Callable[[Connection], object]) -> tuple[object, list[dict[str, Any]]]:
    seen: list[tuple[object, list[dict[str, Any]]]] = []
    try:
        with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
            answer = write(connection)
            seen.append((answer, _rows(connection)))
            raise _Undo
    except _Undo:
        pass
    return seen[0]


def _without_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows without their ids (a rolled-back transaction may still have used a sequence's values)."""
    return [{k: v for k, v in r.items() if k != "event_id"} for r in rows]


def test_storing_a_batch_gives_the_ids_and_rows_of_storing_one_by_one(ledger: Ledger) -> None:
    with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
        store_event(connection, EventSource.BROKER, "P-old", "{}", NOW)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(batch=items)
    def check(batch: list[tuple[str, str]]) -> None:
        one, one_rows = _written(
            ledger, lambda c: [store_event(c, EventSource.BROKER, key, body, NOW) for key, body in batch]
        )
        many, many_rows = _written(ledger, lambda c: store_events(c, EventSource.BROKER, batch, NOW))
        assert isinstance(one, list)
        assert isinstance(many, list)
        assert [i is None for i in many] == [i is None for i in one]
        assert _without_ids(many_rows) == _without_ids(one_rows)
        stored = {r["event_id"]: r["dedupe_key"] for r in many_rows}
        assert [stored[i] for i in many if i is not None] == [
            key for (key, _), i in zip(batch, many, strict=True) if i is not None
        ]

    check()


def test_marking_a_batch_leaves_the_rows_of_marking_one_by_one(ledger: Ledger) -> None:
    with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
        ids = [store_event(connection, EventSource.BROKER, f"P-{n}", "{}", NOW) for n in range(3)]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(marks=st.lists(st.tuples(st.sampled_from(ids), statuses, details)))
    def check(marks: list[tuple[int, EventStatus, str]]) -> None:
        def one_by_one(connection: Connection) -> None:
            for event_id, status, detail in marks:
                mark(connection, event_id, status, detail, now=LATER)

        _, expected = _written(ledger, one_by_one)
        _, found = _written(ledger, lambda c: mark_many(c, marks, LATER))
        assert found == expected
        assert not any("anna@example.com" in str(r["detail"]) for r in found)

    check()


def test_a_dedupe_key_that_cannot_be_stored_is_refused_before_anything_is(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="dedupe key"), ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
        store_events(connection, EventSource.BROKER, [("P-1", "{}"), ("", "{}")], NOW)
    with ledger.begin() as connection:
        assert _rows(connection) == []
