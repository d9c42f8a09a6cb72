"""What listening reads and writes in the ledger: provider events linked to their outbox rows, the moves
they cause, opt-outs, replies and what they lead to (promises, disputes, tasks), and the summaries of
``delivery_status``.

Every insert here is idempotent on the table's natural key (``INSERT ... ON CONFLICT DO NOTHING``), so
an event handled twice — a provider's retry, a replay, a re-run after a crash — changes nothing the
second time. Every status change is a guarded ``UPDATE ... WHERE status IN (...)``: a row moved on by
someone else keeps its state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import Connection, Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from reminder_pipeline.core.outbox import NOT_HANDED_OVER, OutboxStatus
from reminder_pipeline.core.tasks import TaskStatus
from reminder_pipeline.ledger.bulk import fetch, schema_of
from reminder_pipeline.ledger.receivables import paid_per_invoice
from reminder_pipeline.ledger.schema import (
    customers,
    delivery_events,
    disputes,
    inbound_events,
    invoices,
    outbox,
    promises_to_pay,
    reminder_messages,
    replies,
    tasks,
)
from reminder_pipeline.ledger.schema.billing import email_folded

S = OutboxStatus


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def insert_once(connection: Connection, table: Table, values: Mapping[str, object], keys: Sequence[str]) -> bool:
    """Insert ``values`` unless a row with the same ``keys`` (a unique constraint) exists; True: inserted."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing(index_elements=list(keys))
    return bool(connection.execute(statement).rowcount)


def lock_customer(connection: Connection, customer_id: str) -> None:
    """Hold the customer's row for this transaction (PostgreSQL; SQLite's write lock already serialises):
    two events about one customer never plan the same follow-up or task at once."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            select(customers.c.customer_id).where(customers.c.customer_id == customer_id).with_for_update()
        ).all()


@dataclass(frozen=True)
class MessageRow:
    """An outbox row a provider's event is about, with the address its message went to."""

    outbox_id: int
    customer_id: str
    channel: str
    status: str
    provider_id: str | None
    provider_status: str | None
    recipient: str | None


MESSAGE_COLUMNS = (
    outbox.c.outbox_id,
    outbox.c.customer_id,
    outbox.c.channel,
    outbox.c.status,
    outbox.c.provider_id,
    outbox.c.provider_status,
    reminder_messages.c.recipient,
)
"""The fields of a :class:`MessageRow`, in order, read from ``MESSAGE_JOIN``."""
MESSAGE_JOIN = outbox.outerjoin(reminder_messages, reminder_messages.c.outbox_id == outbox.c.outbox_id)
MESSAGE_QUERY = select(*MESSAGE_COLUMNS).select_from(MESSAGE_JOIN)


def message_row(connection: Connection, outbox_id: int) -> MessageRow | None:
    query = MESSAGE_QUERY.where(outbox.c.outbox_id == outbox_id)
    found = connection.execute(query).one_or_none()
    return MessageRow(*found) if found is not None else None


def find_message(
    connection: Connection, channel: str, reminder_key: str | None, provider_id: str | None
) -> MessageRow | None:
    """The outbox row of ``channel`` an event names: by its reminder key, else by the provider's id."""
    for column, value in ((outbox.c.dedupe_key, reminder_key), (outbox.c.provider_id, provider_id)):
        if not value:
            continue
        query = MESSAGE_QUERY.where(column == value, outbox.c.channel == channel)
        found = connection.execute(query.order_by(outbox.c.outbox_id).limit(1)).one_or_none()
        if found is not None:
            return MessageRow(*found)
    return None


def move_message(
    connection: Connection, outbox_id: int, allowed_from: Sequence[str], values: Mapping[str, object]
) -> bool:
    """Set ``values`` on the row if it is still in ``allowed_from``; True: it moved."""
    moved = connection.execute(
        update(outbox)
        .where(outbox.c.outbox_id == outbox_id, outbox.c.status.in_([str(s) for s in allowed_from]))
        .values(**values, updated_at=func.now())
    ).rowcount
    return bool(moved)


def record_delivery_event(connection: Connection, values: Mapping[str, object]) -> bool:
    """Store one provider event once per ``(provider, provider_event_id)``; True: it is new."""
    return insert_once(connection, delivery_events, values, ["provider", "provider_event_id"])


EVENT_COLUMNS = ["delivery_event_id", "event", "error_code", "detail", "provider_id"]


def events_of(connection: Connection, outbox_id: int) -> list[dict[str, object]]:
    """The provider's events about a row, oldest stored first (``EVENT_COLUMNS``)."""
    query = (
        select(*[delivery_events.c[c] for c in EVENT_COLUMNS])
        .where(delivery_events.c.outbox_id == outbox_id)
        .order_by(delivery_events.c.delivery_event_id)
    )
    return [dict(r._mapping) for r in connection.execute(query)]


def link_unmatched(connection: Connection, provider: str, channel: str) -> list[int]:
    """Link ``provider``'s events stored before their row was known (the callback outran the send's
    answer) to the row that now carries their reminder key or provider id; the ids of the events linked."""
    unlinked = connection.execute(
        select(delivery_events.c.delivery_event_id, delivery_events.c.reminder_key, delivery_events.c.provider_id)
        .where(delivery_events.c.provider == provider, delivery_events.c.outbox_id.is_(None))
        .order_by(delivery_events.c.delivery_event_id)
    ).all()
    linked: list[int] = []
    for event_id, key, provider_id in unlinked:
        found = find_message(connection, channel, key, provider_id)
        if found is None:
            continue
        connection.execute(
            update(delivery_events)
            .where(delivery_events.c.delivery_event_id == event_id)
            .values(outbox_id=found.outbox_id)
        )
        linked.append(int(event_id))
    return linked


def event_rows(connection: Connection, event_ids: Sequence[int]) -> list[tuple[int, int]]:
    """``(delivery_event_id, outbox_id)`` of these events."""
    if not event_ids:
        return []
    query = select(delivery_events.c.delivery_event_id, delivery_events.c.outbox_id).where(
        delivery_events.c.delivery_event_id.in_(list(event_ids))
    )
    return [(int(a), int(b)) for a, b in connection.execute(query) if b is not None]


def rows_to_settle(connection: Connection, decisive: Sequence[str]) -> list[int]:
    """Rows the provider has (sent, unknown, unresolved) with an event among ``decisive`` linked to them."""
    query = (
        select(outbox.c.outbox_id)
        .join(delivery_events, delivery_events.c.outbox_id == outbox.c.outbox_id)
        .where(outbox.c.status.in_([S.SENT, S.UNKNOWN, S.UNRESOLVED]), delivery_events.c.event.in_(list(decisive)))
        .distinct()
    )
    return sorted(int(r[0]) for r in connection.execute(query))


def latest_delivery_event(connection: Connection) -> int:
    return int(connection.execute(select(func.coalesce(func.max(delivery_events.c.delivery_event_id), 0))).scalar_one())


def events_waiting(connection: Connection) -> int:
    """Inbound events stored but not processed yet (``received``): a crash or a busy ledger left them."""
    query = select(func.count()).select_from(inbound_events).where(inbound_events.c.status == "received")
    return int(connection.execute(query).scalar_one())


def fallbacks_to_render(connection: Connection) -> list[date]:
    """Business days with planned fallback rows not rendered yet (made after a provider's event)."""
    query = (
        select(outbox.c.business_date)
        .where(outbox.c.status == S.PLANNED, outbox.c.status_reason.like("fallback:%"))
        .distinct()
    )
    return sorted(r[0] for r in connection.execute(query))


def set_opt_out(connection: Connection, customer_id: str, column: str, now: datetime) -> bool:
    """Record the customer's opt-out of a channel (the first one stays); True: it is new."""
    statement = (
        update(customers)
        .where(customers.c.customer_id == customer_id, customers.c[column].is_(None))
        .values({column: _utc(now), "updated_at": func.now()})
    )
    return bool(connection.execute(statement).rowcount)


def clear_opt_out(connection: Connection, customer_id: str, column: str) -> bool:
    statement = (
        update(customers)
        .where(customers.c.customer_id == customer_id, customers.c[column].is_not(None))
        .values({column: None, "updated_at": func.now()})
    )
    return bool(connection.execute(statement).rowcount)


def cancel_pending(connection: Connection, customer_id: str, reason: str, channel: str | None = None) -> int:
    """Cancel the customer's rows no provider has yet (of ``channel``, or all); how many."""
    where = [outbox.c.customer_id == customer_id, outbox.c.status.in_(NOT_HANDED_OVER)]
    if channel is not None:
        where.append(outbox.c.channel == channel)
    statement = (
        update(outbox).where(*where).values(status=S.CANCELLED, status_reason=reason[:200], updated_at=func.now())
    )
    return int(connection.execute(statement).rowcount)


def customers_with_phone(connection: Connection, phones: Sequence[str]) -> list[str]:
    query = select(customers.c.customer_id).where(customers.c.phone.in_(list(phones))).order_by(customers.c.customer_id)
    return [str(r[0]) for r in connection.execute(query)]


def customers_with_email(connection: Connection, address: str) -> list[str]:
    query = (
        select(customers.c.customer_id).where(email_folded == address.strip().lower()).order_by(customers.c.customer_id)
    )
    return [str(r[0]) for r in connection.execute(query)]


def open_invoices_of(connection: Connection, customer_id: str) -> list[str]:
    """The customer's invoices with a balance left, whatever their date."""
    paid = paid_per_invoice(only=select(invoices.c.invoice_id).where(invoices.c.customer_id == customer_id).subquery())
    query = (
        select(invoices.c.invoice_id)
        .select_from(invoices.outerjoin(paid, paid.c.invoice_id == invoices.c.invoice_id))
        .where(invoices.c.customer_id == customer_id, invoices.c.amount_minor - func.coalesce(paid.c.paid, 0) > 0)
        .order_by(invoices.c.invoice_id)
    )
    return [str(r[0]) for r in connection.execute(query)]


def customer_time_zone(connection: Connection, customer_id: str) -> str | None:
    query = select(customers.c.time_zone).where(customers.c.customer_id == customer_id)
    return connection.execute(query).scalar_one_or_none()


def reply_exists(connection: Connection, channel: str, provider_id: str) -> bool:
    query = select(func.count()).where(replies.c.channel == channel, replies.c.provider_id == provider_id)
    return bool(connection.execute(query).scalar_one())


def record_reply(connection: Connection, values: Mapping[str, object]) -> bool:
    return insert_once(connection, replies, values, ["channel", "provider_id"])


def record_promise(connection: Connection, values: Mapping[str, object]) -> bool:
    return insert_once(connection, promises_to_pay, values, ["promise_id"])


def open_dispute(connection: Connection, values: Mapping[str, object]) -> bool:
    return insert_once(connection, disputes, values, ["dispute_id"])


def open_task(connection: Connection, values: Mapping[str, object]) -> bool:
    return insert_once(connection, tasks, values, ["dedupe_key"])


def sent_without_final_status(connection: Connection, provider: str, sent_before: datetime, limit: int) -> pl.DataFrame:
    """Rows ``provider`` accepted before ``sent_before`` still waiting for a final status, with their message."""
    columns = {
        **schema_of(outbox, ["outbox_id", "dedupe_key", "channel", "provider_id", "provider_status", "sent_at"]),
        **schema_of(reminder_messages, ["recipient", "body_text", "subject"]),
    }
    query = (
        select(*[outbox.c[c] for c in list(columns)[:6]], *[reminder_messages.c[c] for c in list(columns)[6:]])
        .join(reminder_messages, reminder_messages.c.outbox_id == outbox.c.outbox_id)
        .where(outbox.c.provider == provider, outbox.c.status == S.SENT, outbox.c.sent_at < _utc(sent_before))
        .order_by(outbox.c.sent_at, outbox.c.outbox_id)
        .limit(limit)
    )
    return fetch(connection, query, columns)


def message_statuses(connection: Connection) -> pl.DataFrame:
    """``channel, provider, status, messages``: every message row handed to a provider (or that failed)."""
    query = (
        select(outbox.c.channel, outbox.c.provider, outbox.c.status, func.count().label("messages"))
        .where(outbox.c.provider.is_not(None))
        .group_by(outbox.c.channel, outbox.c.provider, outbox.c.status)
        .order_by(outbox.c.channel, outbox.c.status)
    )
    types = {**schema_of(outbox, ["channel", "provider", "status"]), "messages": pl.Int64()}
    return fetch(connection, query, types)


def failures_by_code(connection: Connection) -> pl.DataFrame:
    """``channel, provider, error_code, messages``: failed rows by the code their ``last_error`` starts with."""
    rows = connection.execute(
        select(outbox.c.channel, outbox.c.provider, outbox.c.last_error).where(
            outbox.c.status == S.FAILED, outbox.c.provider.is_not(None)
        )
    ).all()
    frame = pl.DataFrame(
        [(c, p, (e or "").split(":", 1)[0] or "unknown") for c, p, e in rows],
        schema={**schema_of(outbox, ["channel", "provider"]), "error_code": pl.String()},
        orient="row",
    )
    return frame.group_by("channel", "provider", "error_code").len("messages").sort("channel", "error_code")


def event_counts(connection: Connection) -> pl.DataFrame:
    """``provider, event, events, messages``: provider events stored, and the distinct messages they name."""
    e = delivery_events
    query = (
        select(
            e.c.provider,
            e.c.event,
            func.count().label("events"),
            func.count(func.distinct(e.c.outbox_id)).label("messages"),
        )
        .group_by(e.c.provider, e.c.event)
        .order_by(e.c.provider, e.c.event)
    )
    types = {**schema_of(e, ["provider", "event"]), "events": pl.Int64(), "messages": pl.Int64()}
    return fetch(connection, query, types)


def unmatched_events(connection: Connection) -> int:
    query = select(func.count()).select_from(delivery_events).where(delivery_events.c.outbox_id.is_(None))
    return int(connection.execute(query).scalar_one())


def open_tasks(connection: Connection) -> dict[str, int]:
    query = select(tasks.c.kind, func.count()).where(tasks.c.status == TaskStatus.OPEN.value).group_by(tasks.c.kind)
    return {str(kind): int(count) for kind, count in connection.execute(query)}
