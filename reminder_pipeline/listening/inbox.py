"""The durable inbox: every signed webhook request or broker message, stored before it is acknowledged.

An event is stored once per ``(source, dedupe_key)`` — a provider's retry or a replay stores nothing
and is a no-op — and committed before the sender hears 2xx. It is then processed in its own
transaction: the handler's effects and the event's new status commit together, so a crash in between
leaves it ``received`` and :func:`process_pending` runs it again later (``reminders serve`` at startup,
the delivery_status sensor). A processing step first claims the row (``received`` → still
``received``, row-locked), so two processes never apply the same event twice.

What ``body`` holds, per source (handlers parse it):

- ``twilio_status``, ``twilio_inbound``: the form-encoded request body, followed by the query
  parameters of the URL Twilio called (the ``reminder_key`` of a status callback) when the body
  does not carry them already.
- ``sendgrid_events``: the raw JSON array of one batch (deduplicated by its sha256; each event inside
  by ``sg_event_id``, in ``delivery_events``).
- ``sendgrid_inbound``: a JSON object of the Inbound Parse post's text fields (``from``, ``to``,
  ``subject``, ``text``, ``html``, ``headers``, ``envelope``, ``charsets``, ...), attachments left out.
- ``payment``: the raw JSON of the payment webhook; ``stripe``: the raw JSON of the Stripe event.
"""

from __future__ import annotations

import importlib
import logging
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, TextClause, bindparam, func, select, text, update

from reminder_pipeline.core.outbox import OUTBOX_LOCK
from reminder_pipeline.ledger.schema import inbound_events
from reminder_pipeline.ledger.store import LedgerWriteError
from reminder_pipeline.providers.redaction import redact

if TYPE_CHECKING:
    from reminder_pipeline.ledger.store import Ledger

log = logging.getLogger(__name__)

INBOX_LOCK = "inbound_events"
"""Taken shared to store an event (an insert that cannot conflict with other holders)."""
MAX_DEDUPE_KEY = 200
PENDING_BATCH = 200
STORE_MANY_ROWS = 100
"""Events stored by one INSERT at most (:func:`store_events`)."""


class EventSource(StrEnum):
    TWILIO_STATUS = "twilio_status"
    TWILIO_INBOUND = "twilio_inbound"
    SENDGRID_EVENTS = "sendgrid_events"
    SENDGRID_INBOUND = "sendgrid_inbound"
    PAYMENT = "payment"
    STRIPE = "stripe"
    BROKER = "broker"


class EventStatus(StrEnum):
    RECEIVED = "received"
    """Stored, not processed yet (or processing did not commit): :func:`process_pending` takes it."""
    PROCESSED = "processed"
    IGNORED = "ignored"
    """Authentic, but nothing to do (an event type we do not act on)."""
    UNMATCHED = "unmatched"
    """About a message or invoice the ledger does not know, or needing a person: kept for reconciliation."""
    FAILED = "failed"
    """Its handler refused it or broke: kept, with the reason, for a person."""


@dataclass(frozen=True)
class InboundEvent:
    event_id: int
    source: EventSource
    body: str
    received_at: datetime
    form: Mapping[str, str] | None = field(default=None, compare=False, repr=False)
    """A form body's fields (the first value of each name) when whoever stored it parsed it already (the web
    app's Twilio endpoints): its handler need not parse the body again. None: the handler parses ``body``."""


@dataclass(frozen=True)
class HandlerOutcome:
    status: EventStatus
    detail: str = ""
    reply: str | None = None
    """A TwiML document to answer a Twilio inbound message with (None: ``<Response/>``)."""


Handler = Callable[[Connection, InboundEvent, datetime], HandlerOutcome]
Handlers = Mapping[EventSource, Handler]


_STORE = text(
    "INSERT INTO inbound_events (source, dedupe_key, received_at, body, status) "
    "VALUES (:source, :dedupe_key, :received_at, :body, :status) "
    "ON CONFLICT (source, dedupe_key) DO NOTHING RETURNING event_id"
).bindparams(bindparam("received_at", type_=inbound_events.c.received_at.type))
"""``INSERT ... ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL write it alike) as text, whose compiled form
SQLAlchemy caches: a dialect's ``insert().on_conflict_do_nothing()`` has no cache key and is compiled anew
at every call. The statements below are built once, for the same reason."""
_CLAIM = (
    update(inbound_events)
    .where(inbound_events.c.event_id == bindparam("claimed"), inbound_events.c.status == EventStatus.RECEIVED.value)
    .values(status=EventStatus.RECEIVED.value)
)
_CLAIM_MANY = (
    update(inbound_events)
    .where(
        inbound_events.c.event_id.in_(bindparam("claimed", expanding=True)),
        inbound_events.c.status == EventStatus.RECEIVED.value,
    )
    .values(status=EventStatus.RECEIVED.value)
    .returning(inbound_events.c.event_id)
)
_MARK_VALUES: dict[str, Any] = {"status": bindparam("new_status"), "detail": bindparam("new_detail")}
_MARK = (
    update(inbound_events)
    .where(inbound_events.c.event_id == bindparam("marked"))
    .values(**_MARK_VALUES, processed_at=bindparam("marked_at", type_=inbound_events.c.processed_at.type))
)
_MARK_NOW = (
    update(inbound_events)
    .where(inbound_events.c.event_id == bindparam("marked"))
    .values(**_MARK_VALUES, processed_at=func.now())
)
_MARK_ALIKE = (
    update(inbound_events)
    .where(inbound_events.c.event_id.in_(bindparam("marked", expanding=True)))
    .values(**_MARK_VALUES, processed_at=bindparam("marked_at", type_=inbound_events.c.processed_at.type))
)
"""Events marked alike in one statement: an executemany of ``_MARK`` is one statement an event on PostgreSQL."""
_STORE_MANY: dict[int, TextClause] = {}
_STATUS = select(inbound_events.c.status).where(inbound_events.c.event_id == bindparam("asked"))


def check_dedupe_key(dedupe_key: str) -> None:
    """ValueError unless ``dedupe_key`` can be stored."""
    if not dedupe_key or len(dedupe_key) > MAX_DEDUPE_KEY:
        raise ValueError(f"a dedupe key has 1 to {MAX_DEDUPE_KEY} characters")


def store_event(connection: Connection, source: EventSource, dedupe_key: str, body: str, now: datetime) -> int | None:
    """Store an event as ``received``; its id, or None when ``(source, dedupe_key)`` is stored already."""
    check_dedupe_key(dedupe_key)
    if connection.dialect.name not in ("postgresql", "sqlite"):  # the ledger lives in SQLite or PostgreSQL
        raise ValueError(f"the inbox does not support the {connection.dialect.name} dialect")
    values = {"source": EventSource(source).value, "dedupe_key": dedupe_key, "received_at": now, "body": body}
    found = connection.execute(_STORE, values | {"status": EventStatus.RECEIVED.value}).scalar_one_or_none()
    return int(found) if found is not None else None


def _store_many(count: int) -> TextClause:
    """The INSERT of ``count`` events in one statement (made once for each count)."""
    statement = _STORE_MANY.get(count)
    if statement is None:
        rows = ", ".join(f"(:source_{i}, :dedupe_key_{i}, :received_at, :body_{i}, :status)" for i in range(count))
        statement = text(
            f"INSERT INTO inbound_events (source, dedupe_key, received_at, body, status) VALUES {rows} "
            "ON CONFLICT (source, dedupe_key) DO NOTHING RETURNING event_id, source, dedupe_key"
        ).bindparams(bindparam("received_at", type_=inbound_events.c.received_at.type))
        _STORE_MANY[count] = statement
    return statement


def store_events(
    connection: Connection, events: Sequence[tuple[EventSource, str, str]], now: datetime
) -> list[int | None]:
    """:func:`store_event` for each ``(source, dedupe_key, body)``, a few statements for them all.

    The ids in order; None for an event stored already, or given earlier in ``events``.
    """
    for _, dedupe_key, _ in events:
        check_dedupe_key(dedupe_key)
    if connection.dialect.name not in ("postgresql", "sqlite"):  # the ledger lives in SQLite or PostgreSQL
        raise ValueError(f"the inbox does not support the {connection.dialect.name} dialect")
    keys = [(EventSource(source).value, dedupe_key) for source, dedupe_key, _ in events]
    first: dict[tuple[str, str], int] = {}
    for index, key in enumerate(keys):
        first.setdefault(key, index)
    new = [(key, events[index][2]) for key, index in first.items()]
    stored: dict[tuple[str, str], int] = {}
    for start in range(0, len(new), STORE_MANY_ROWS):
        chunk = new[start : start + STORE_MANY_ROWS]
        values: dict[str, object] = {"received_at": now, "status": EventStatus.RECEIVED.value}
        for i, ((source, dedupe_key), body) in enumerate(chunk):
            values |= {f"source_{i}": source, f"dedupe_key_{i}": dedupe_key, f"body_{i}": body}
        for event_id, source, dedupe_key in connection.execute(_store_many(len(chunk)), values):
            stored[(str(source), str(dedupe_key))] = int(event_id)
    return [stored.get(key) if first[key] == index else None for index, key in enumerate(keys)]


def mark(
    connection: Connection, event_id: int, status: EventStatus, detail: str = "", *, now: datetime | None = None
) -> None:
    """Set an event's status and why (masked: no address or number survives, at most 300 characters)."""
    values = _mark_values(event_id, status, detail)
    if now is None:
        connection.execute(_MARK_NOW, values)
    else:
        connection.execute(_MARK, values | {"marked_at": now})


def _mark_values(event_id: int, status: EventStatus, detail: str) -> dict[str, object]:
    shown = redact(detail) if detail else None
    return {"marked": event_id, "new_status": EventStatus(status).value, "new_detail": shown}


def _claim(connection: Connection, event_id: int) -> bool:
    """Lock the event's row if it is still ``received`` (False: another process took it)."""
    return bool(connection.execute(_CLAIM, {"claimed": event_id}).rowcount)


def load_event(connection: Connection, event_id: int) -> InboundEvent | None:
    row = connection.execute(
        select(inbound_events.c.source, inbound_events.c.body, inbound_events.c.received_at).where(
            inbound_events.c.event_id == event_id
        )
    ).one_or_none()
    if row is None:
        return None
    return InboundEvent(event_id, EventSource(row.source), row.body, row.received_at)


@dataclass(frozen=True)
class Processed:
    """What processing one event did: its status now (``received``: left for later) and the handler's answer."""

    status: EventStatus
    detail: str = ""
    reply: str | None = None


def _handle(connection: Connection, event: InboundEvent, handler: Handler, now: datetime) -> Processed:
    """Claim, handle and mark ``event`` in the caller's transaction (already processed: its status as it is)."""
    if not _claim(connection, event.event_id):
        return Processed(_current_status(connection, event.event_id))
    outcome = handler(connection, event, now)
    mark(connection, event.event_id, outcome.status, outcome.detail, now=now)
    return Processed(outcome.status, redact(outcome.detail), outcome.reply)


def _failure(event: InboundEvent, error: Exception) -> str:
    """Why the handler failed, logged with where (the error's message is not: it may quote customer data)."""
    detail = f"the {event.source} handler failed: {type(error).__name__}"
    where = "".join(traceback.format_tb(error.__traceback__))
    log.error("inbound event %s: %s (its message is not logged)\n%s", event.event_id, detail, where)
    return detail


def _mark_failed(connection: Connection, event: InboundEvent, detail: str, now: datetime) -> None:
    if _claim(connection, event.event_id):
        mark(connection, event.event_id, EventStatus.FAILED, detail, now=now)


def process_event(ledger: Ledger, event: InboundEvent, handler: Handler, now: datetime) -> Processed:
    """Run ``handler`` on ``event`` and mark it, in one transaction under the outbox lock (shared).

    A database error leaves the event ``received`` (it is retried later); any other error marks it
    ``failed`` with the error's class only (a message may quote customer data).
    """
    try:
        with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
            return _handle(connection, event, handler, now)
    except LedgerWriteError as error:
        log.warning("inbound event %s left to retry: %s", event.event_id, error)
        return Processed(EventStatus.RECEIVED, str(error))
    except Exception as error:
        detail = _failure(event, error)
        with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
            _mark_failed(connection, event, detail, now)
        return Processed(EventStatus.FAILED, detail)


def process_events(ledger: Ledger, events: Sequence[tuple[InboundEvent, Handler]], now: datetime) -> list[Processed]:
    """:func:`process_event` for each of ``events``, all in one transaction: one claim, one commit.

    The events still received are claimed together; each claimed one is handled and marked, and the
    handlers' effects and the marks commit together or not at all. A run of consecutive events whose
    handlers share a group (:class:`~reminder_pipeline.listening.batched.BatchedHandler`) is handled
    in one call, set-based. Should anything go wrong — a handler that breaks, a database error (a
    deadlock with another process, say) — nothing of the batch is kept, and each event is processed
    alone by :func:`process_event`, which then marks a broken one ``failed`` and leaves one meeting
    a database error ``received``.
    """
    if len(events) <= 1:
        return [process_event(ledger, event, handler, now) for event, handler in events]
    try:
        with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
            ids = [event.event_id for event, _ in events]
            claimed = {int(i) for i in connection.execute(_CLAIM_MANY, {"claimed": ids}).scalars()}
            done: dict[int, Processed] = {}
            to_handle: dict[int, tuple[InboundEvent, Handler]] = {}
            for event, handler in events:  # the same event twice in a batch is handled once
                if event.event_id not in claimed and event.event_id not in done:
                    done[event.event_id] = Processed(_current_status(connection, event.event_id))
                elif event.event_id in claimed:
                    to_handle.setdefault(event.event_id, (event, handler))
            alike: dict[tuple[object, object], list[int]] = {}
            for run in _runs(list(to_handle.values())):
                for (event, _), outcome in zip(run, _handle_run(connection, run, now), strict=True):
                    values = _mark_values(event.event_id, outcome.status, outcome.detail)
                    alike.setdefault((values["new_status"], values["new_detail"]), []).append(event.event_id)
                    done[event.event_id] = Processed(outcome.status, redact(outcome.detail), outcome.reply)
            for (status, detail), marked in alike.items():
                alike_values = {"marked": marked, "new_status": status, "new_detail": detail, "marked_at": now}
                connection.execute(_MARK_ALIKE, alike_values)
        return [done[event.event_id] for event, _ in events]
    except Exception as error:
        log.warning(
            "%s inbound events not processed together (%s), each is tried alone", len(events), type(error).__name__
        )
    return [process_event(ledger, event, handler, now) for event, handler in events]


def _runs(events: list[tuple[InboundEvent, Handler]]) -> list[list[tuple[InboundEvent, Handler]]]:
    """Consecutive events whose handlers share a group together; every other event alone."""
    runs: list[list[tuple[InboundEvent, Handler]]] = []
    for event, handler in events:
        group = getattr(handler, "group", None)
        if runs and group is not None and getattr(runs[-1][0][1], "group", None) == group:
            runs[-1].append((event, handler))
        else:
            runs.append([(event, handler)])
    return runs


def _handle_run(connection: Connection, run: list[tuple[InboundEvent, Handler]], now: datetime) -> list[HandlerOutcome]:
    if len(run) == 1:
        event, handler = run[0]
        return [handler(connection, event, now)]
    outcomes: list[HandlerOutcome] = run[0][1].many(connection, [event for event, _ in run], now)  # type: ignore[attr-defined]
    if len(outcomes) != len(run):
        raise RuntimeError(f"a batched handler answered {len(outcomes)} outcomes for {len(run)} events")
    return outcomes


def _current_status(connection: Connection, event_id: int) -> EventStatus:
    return EventStatus(connection.execute(_STATUS, {"asked": event_id}).scalar_one())


def _pending(ledger: Ledger, sources: list[str], after: int) -> Iterator[InboundEvent]:
    with ledger.begin() as connection:
        rows = connection.execute(
            select(
                inbound_events.c.event_id, inbound_events.c.source, inbound_events.c.body, inbound_events.c.received_at
            )
            .where(
                inbound_events.c.status == EventStatus.RECEIVED.value,
                inbound_events.c.source.in_(sources),
                inbound_events.c.event_id > after,
            )
            .order_by(inbound_events.c.event_id)
            .limit(PENDING_BATCH)
        ).all()
    for row in rows:
        yield InboundEvent(row.event_id, EventSource(row.source), row.body, row.received_at)


def default_handlers() -> dict[EventSource, Handler]:
    """Every handler the product has: the providers' (processing, when installed) and the payments'."""
    from reminder_pipeline.web.payment_handlers import PAYMENT_HANDLERS

    return {**provider_handlers(), **PAYMENT_HANDLERS}


def provider_handlers() -> dict[EventSource, Handler]:
    """``reminder_pipeline.listening.handlers.HANDLERS``, or none while that module does not exist."""
    name = "reminder_pipeline.listening.handlers"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as missing:
        if missing.name != name:
            raise
        return {}
    return dict(module.HANDLERS)


def process_pending(ledger: Ledger, now: datetime, handlers: Handlers | None = None) -> Counter[EventStatus]:
    """Process every ``received`` event of a source with a handler, oldest first; counts by new status.

    Events whose source has no handler stay ``received``; so does one whose transaction fails again.
    """
    chosen = default_handlers() if handlers is None else handlers
    sources = [EventSource(s).value for s in chosen]
    counts: Counter[EventStatus] = Counter()
    after = 0
    while sources:
        batch = list(_pending(ledger, sources, after))
        if not batch:
            break
        for event in batch:
            counts[process_event(ledger, event, chosen[event.source], now).status] += 1
            after = event.event_id
    return counts
