"""The inbox's writes for a batch of events: :func:`inbox.store_event` and :func:`inbox.mark` for many at once.

A broker batch stores and marks hundreds of events in one transaction; one statement each costs a
round trip each. Here an INSERT of many rows stores them (ids returned with their keys: the order of
``RETURNING`` rows is not promised) and one UPDATE from a staged table marks them, with the
semantics of the one-event functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl
from sqlalchemy import Connection, bindparam, text

from reminder_pipeline.ledger.bulk import update_from
from reminder_pipeline.ledger.schema import inbound_events
from reminder_pipeline.listening.inbox import EventSource, EventStatus, check_dedupe_key
from reminder_pipeline.providers.redaction import redact

STORE_ROWS = 200
"""Events stored by one INSERT at most (5 parameters each, well inside SQLite's limit)."""
_STORE: dict[int, object] = {}


def _store_statement(count: int) -> object:
    """The INSERT of ``count`` events, made once per count (text: its compiled form is cached)."""
    statement = _STORE.get(count)
    if statement is None:
        rows = ", ".join(f"(:source, :dedupe_key_{i}, :received_at, :body_{i}, :status)" for i in range(count))
        statement = text(
            f"INSERT INTO inbound_events (source, dedupe_key, received_at, body, status) VALUES {rows} "
            "ON CONFLICT (source, dedupe_key) DO NOTHING RETURNING event_id, dedupe_key"
        ).bindparams(bindparam("received_at", type_=inbound_events.c.received_at.type))
        _STORE[count] = statement
    return statement


def store_events(
    connection: Connection, source: EventSource, items: Sequence[tuple[str, str]], now: datetime
) -> list[int | None]:
    """Store each ``(dedupe_key, body)`` of ``source`` as ``received``: the ids in order, as
    :func:`inbox.store_event` one by one would give them — None for a key stored already, or earlier in ``items``.
    """
    for dedupe_key, _ in items:
        check_dedupe_key(dedupe_key)
    if connection.dialect.name not in ("postgresql", "sqlite"):  # the ledger lives in SQLite or PostgreSQL
        raise ValueError(f"the inbox does not support the {connection.dialect.name} dialect")
    first: dict[str, int] = {}
    for index, (dedupe_key, _) in enumerate(items):
        first.setdefault(dedupe_key, index)
    new = [items[index] for index in first.values()]
    stored: dict[str, int] = {}
    shared = {"source": EventSource(source).value, "received_at": now, "status": EventStatus.RECEIVED.value}
    for start in range(0, len(new), STORE_ROWS):
        chunk = new[start : start + STORE_ROWS]
        values: dict[str, object] = dict(shared)
        for i, (dedupe_key, body) in enumerate(chunk):
            values[f"dedupe_key_{i}"] = dedupe_key
            values[f"body_{i}"] = body
        for event_id, dedupe_key in connection.execute(_store_statement(len(chunk)), values):  # type: ignore[call-overload]
            stored[str(dedupe_key)] = int(event_id)
    return [stored.get(key) if first[key] == index else None for index, (key, _) in enumerate(items)]


def mark_many(connection: Connection, ids_and_statuses: Sequence[tuple[int, EventStatus, str]], now: datetime) -> int:
    """:func:`inbox.mark` (with ``now``) for each ``(event_id, status, detail)``; rows marked.

    An event named twice takes the last of its marks, as marking one by one would leave it.
    """
    last = {event_id: (status, detail) for event_id, status, detail in ids_and_statuses}
    if not last:
        return 0
    frame = pl.DataFrame(
        {
            "event_id": list(last),
            "status": [EventStatus(status).value for status, _ in last.values()],
            "detail": [redact(detail) if detail else None for _, detail in last.values()],
            "processed_at": [now] * len(last),
        },
        schema={
            "event_id": pl.Int64,
            "status": pl.String,
            "detail": pl.String,
            "processed_at": pl.Datetime("us", "UTC"),
        },
    )
    return update_from(connection, inbound_events, frame, key="event_id", touch=False)
