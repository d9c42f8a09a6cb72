"""The reads and writes of :mod:`reminder_pipeline.ledger.listening` for many provider events at once.

A batch of webhooks names hundreds of messages; a statement per message costs a round trip and a
compilation each. Here each read takes every key at once (``IN`` lists, chunked), each write is one
multi-row statement, and the statements are built once (their compiled forms are cached), with
the semantics of the one-event functions: rows found by reminder key, else by the provider's id;
events stored once per ``(provider, provider_event_id)``; a row moved only from the statuses allowed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, TextClause, bindparam, func, select, text, update

from reminder_pipeline.ledger.listening import EVENT_COLUMNS, MESSAGE_COLUMNS, MESSAGE_JOIN, MESSAGE_QUERY, MessageRow
from reminder_pipeline.ledger.planner import not_by_index
from reminder_pipeline.ledger.schema import customers, delivery_events, outbox

IN_LIST_ROWS = 500
"""Keys bound in one ``IN (...)`` at most."""
INSERT_ROWS = 100
"""Provider events stored by one INSERT at most (10 parameters each)."""
EVENT_VALUES = [
    "provider",
    "provider_event_id",
    "outbox_id",
    "provider_id",
    "reminder_key",
    "event",
    "error_code",
    "detail",
    "occurred_at",
    "received_at",
]
_BY_KEY = (
    select(outbox.c.dedupe_key, *MESSAGE_COLUMNS)
    .select_from(MESSAGE_JOIN)
    .where(outbox.c.dedupe_key.in_(bindparam("keys", expanding=True)))
)
_BY_PROVIDER_ID = MESSAGE_QUERY.where(outbox.c.provider_id.in_(bindparam("keys", expanding=True))).order_by(
    outbox.c.outbox_id
)
_EVENTS_OF = (
    select(delivery_events.c.outbox_id, *[delivery_events.c[c] for c in EVENT_COLUMNS])
    .where(delivery_events.c.outbox_id.in_(bindparam("rows", expanding=True)))
    .order_by(delivery_events.c.delivery_event_id)
)
_LOCK = (
    select(customers.c.customer_id)
    .where(customers.c.customer_id.in_(bindparam("locked", expanding=True)))
    .order_by(customers.c.customer_id)
    .with_for_update()
)
_INSERTS: dict[int, TextClause] = {}
_MOVES: dict[tuple[str, ...], Any] = {}


def _chunks(keys: Sequence[Any], size: int = IN_LIST_ROWS) -> list[list[Any]]:
    distinct = list(dict.fromkeys(keys))
    return [distinct[i : i + size] for i in range(0, len(distinct), size)]


def find_messages(
    connection: Connection, lookups: Sequence[tuple[str, str | None, str | None]]
) -> list[MessageRow | None]:
    """:func:`~reminder_pipeline.ledger.listening.find_message` for each ``(channel, reminder_key, provider_id)``."""
    by_key: dict[str, MessageRow] = {}
    for chunk in _chunks([key for _, key, _ in lookups if key]):
        by_key |= {str(r[0]): MessageRow(*r[1:]) for r in connection.execute(_BY_KEY, {"keys": chunk})}
    found: list[MessageRow | None] = []
    missing: list[int] = []
    for index, (channel, key, provider_id) in enumerate(lookups):
        row = by_key.get(key) if key else None
        row = row if row is not None and row.channel == channel else None
        found.append(row)
        if row is None and provider_id:
            missing.append(index)
    if missing:
        by_provider_id: dict[tuple[str, str], MessageRow] = {}
        for chunk in _chunks([lookups[i][2] for i in missing]):
            for found_row in connection.execute(_BY_PROVIDER_ID, {"keys": chunk}):
                message = MessageRow(*found_row)
                by_provider_id.setdefault((message.channel, str(message.provider_id)), message)
        for index in missing:
            channel, _, provider_id = lookups[index]
            found[index] = by_provider_id.get((channel, str(provider_id)))
    return found


def events_of_rows(connection: Connection, outbox_ids: Sequence[int]) -> dict[int, list[dict[str, object]]]:
    """:func:`~reminder_pipeline.ledger.listening.events_of` for each row (oldest stored first)."""
    found: dict[int, list[dict[str, object]]] = {int(i): [] for i in outbox_ids}
    for chunk in _chunks(list(outbox_ids)):
        for row in connection.execute(_EVENTS_OF, {"rows": chunk}):
            values = dict(row._mapping)
            found[int(values.pop("outbox_id"))].append(values)
    return found


def lock_customers(connection: Connection, customer_ids: Sequence[str]) -> None:
    """:func:`~reminder_pipeline.ledger.listening.lock_customer` for each, in one order (PostgreSQL only)."""
    if connection.dialect.name != "postgresql":
        return
    for chunk in _chunks(sorted(set(customer_ids))):
        connection.execute(_LOCK, {"locked": chunk}).all()


def _insert_statement(count: int) -> TextClause:
    statement = _INSERTS.get(count)
    if statement is None:
        columns = ", ".join(EVENT_VALUES)
        rows = ", ".join("(" + ", ".join(f":{c}_{i}" for c in EVENT_VALUES) + ")" for i in range(count))
        statement = text(
            f"INSERT INTO delivery_events ({columns}) VALUES {rows} "
            "ON CONFLICT (provider, provider_event_id) DO NOTHING RETURNING provider, provider_event_id"
        ).bindparams(
            *[bindparam(f"{c}_{i}", type_=delivery_events.c[c].type) for i in range(count) for c in EVENT_VALUES]
        )
        _INSERTS[count] = statement
    return statement


def record_delivery_events(connection: Connection, rows: Sequence[Mapping[str, object]]) -> set[tuple[str, str]]:
    """Store each provider event unless its ``(provider, provider_event_id)`` is stored (or earlier in ``rows``),
    in the order given (their ids follow it); the keys of those stored now."""
    first: dict[tuple[str, str], Mapping[str, object]] = {}
    for row in rows:
        first.setdefault((str(row["provider"]), str(row["provider_event_id"])), row)
    new = list(first.values())
    stored: set[tuple[str, str]] = set()
    for start in range(0, len(new), INSERT_ROWS):
        chunk = new[start : start + INSERT_ROWS]
        values = {f"{c}_{i}": row[c] for i, row in enumerate(chunk) for c in EVENT_VALUES}
        for provider, event_id in connection.execute(_insert_statement(len(chunk)), values):
            stored.add((str(provider), str(event_id)))
    return stored


def _move_statement(columns: tuple[str, ...]) -> Any:
    """``UPDATE outbox SET <columns> WHERE outbox_id IN (...) AND status IN (...) RETURNING outbox_id``."""
    statement = _MOVES.get(columns)
    if statement is None:
        statement = (
            update(outbox)
            .where(
                outbox.c.outbox_id.in_(bindparam("moved", expanding=True)),
                # by the key only: SQLite would walk the status index (every ``sent`` row, 4 ms at
                # 40,000 customers)
                not_by_index(outbox.c.status).in_(bindparam("allowed", expanding=True)),
            )
            .values({**{c: bindparam(f"set_{c}") for c in columns}, "updated_at": func.now()})
            .returning(outbox.c.outbox_id)
        )
        _MOVES[columns] = statement
    return statement


def move_messages(
    connection: Connection, outbox_ids: Sequence[int], allowed_from: Sequence[str], values: Mapping[str, object]
) -> set[int]:
    """:func:`~reminder_pipeline.ledger.listening.move_message` for each row, with the same ``values``; those moved."""
    statement = _move_statement(tuple(sorted(values)))
    parameters: dict[str, object] = {f"set_{c}": v for c, v in values.items()}
    parameters["allowed"] = [str(s) for s in allowed_from]
    moved: set[int] = set()
    for chunk in _chunks(list(outbox_ids)):
        moved |= {int(i) for i in connection.execute(statement, parameters | {"moved": chunk}).scalars()}
    return moved
