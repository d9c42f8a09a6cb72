"""Delivery's reads and writes on the outbox: due rows claimed with a lease, outcomes recorded only by the
worker that holds the row, leases that ran out, unknown outcomes, refused contacts, every attempt.

On PostgreSQL due rows are claimed ``FOR UPDATE SKIP LOCKED`` and their customers locked the same way,
so several workers drain one outbox without waiting on each other and never send two messages to
one customer at once; on SQLite the claiming transaction holds the database's single write lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import polars as pl
from sqlalchemy import Connection, and_, func, or_, select, update

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.core.channels import CHANNELS
from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.ledger.bulk import fetch, insert, schema_of, stage, update_from
from reminder_pipeline.ledger.planner import not_by_index
from reminder_pipeline.ledger.schema import customers, delivery_attempts, outbox, reminder_messages

S = OutboxStatus
CLAIMABLE = (S.RENDERED, S.RETRY)
HANDED_OVER = (S.SENDING, S.SENT, S.DELIVERED, S.UNKNOWN, S.UNRESOLVED)
"""Rows a provider has or may have: each is a message to the customer on its day."""

OUTBOX_COLUMNS = [
    "outbox_id",
    "dedupe_key",
    "customer_id",
    "episode_id",
    "ladder",
    "step",
    "tone",
    "channel",
    "business_date",
    "send_on",
    "window_end",
    "invoice_ids",
    "attempts",
    "sending_at",
]
MESSAGE_COLUMNS = ["recipient", "subject", "body_text", "body_html", "unsubscribe_url", "amount_minor"]
CLAIM_SCHEMA = {**schema_of(outbox, OUTBOX_COLUMNS), **schema_of(reminder_messages, MESSAGE_COLUMNS)}
"""A row as delivery reads it: the outbox row and its rendered message."""


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _with_messages(where: Sequence[object], limit: int | None, *, lock: bool) -> object:
    query = (
        select(
            *[outbox.c[c] for c in OUTBOX_COLUMNS],
            *[reminder_messages.c[c] for c in MESSAGE_COLUMNS if c != "amount_minor"],
            reminder_messages.c.amount_minor,
        )
        .join(reminder_messages, reminder_messages.c.outbox_id == outbox.c.outbox_id)
        .where(*where)  # type: ignore[arg-type]
        .order_by(outbox.c.window_end, outbox.c.outbox_id)
    )
    if limit is not None:
        query = query.limit(limit)
    if lock:
        query = query.with_for_update(skip_locked=True, of=outbox)
    return query


def _decode(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("invoice_ids").str.json_decode(pl.List(pl.String)))


def _due_now(channel: Channel, now: datetime) -> list[object]:
    at = _utc(now)
    return [
        outbox.c.channel == channel.value,
        outbox.c.status.in_(CLAIMABLE),
        outbox.c.window_start <= at,
        outbox.c.window_end > at,
        or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= at),
    ]


def _attempt_due(at: datetime) -> object:
    return or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= at)


def due_rows(connection: Connection, channel: Channel, now: datetime, limit: int) -> pl.DataFrame:
    """Up to ``limit`` rows of ``channel`` whose window is open and whose next try is due (``CLAIM_SCHEMA``),
    locked for this transaction on PostgreSQL (rows other workers hold are skipped)."""
    lock = connection.dialect.name == "postgresql"
    query = _with_messages(_due_now(channel, now), limit, lock=lock)
    return _decode(fetch(connection, query, CLAIM_SCHEMA))


def lock_customers(connection: Connection, customer_ids: pl.Series) -> pl.Series:
    """Of ``customer_ids``, those this transaction could lock (PostgreSQL; SQLite holds the write lock)."""
    if connection.dialect.name != "postgresql" or customer_ids.is_empty():
        return customer_ids.unique()
    staged = stage(connection, pl.DataFrame({"customer_id": customer_ids.unique()}), customers)
    query = (
        select(customers.c.customer_id)
        .join(staged, staged.c.customer_id == customers.c.customer_id)
        .with_for_update(skip_locked=True, of=customers)
    )
    locked = [row[0] for row in connection.execute(query)]
    staged.drop(connection)
    return pl.Series("customer_id", locked, dtype=pl.String)


def contacted_on(connection: Connection, customer_ids: pl.Series, days: pl.Series) -> pl.DataFrame:
    """customer_id, send_on, outbox_id of messages a provider has or may have, of these customers on these days."""
    columns = schema_of(outbox, ["customer_id", "send_on", "outbox_id"])
    if customer_ids.is_empty():
        return pl.DataFrame(schema=columns)
    staged = stage(connection, pl.DataFrame({"customer_id": customer_ids.unique()}), outbox)
    query = (
        select(outbox.c.customer_id, outbox.c.send_on, outbox.c.outbox_id)
        .join(staged, staged.c.customer_id == outbox.c.customer_id)
        # by the customer only: SQLite would walk the day's (send_on, status) index, every message handed over
        # that day, once per staged customer (200 ms a look at 20,000 messages)
        .where(
            not_by_index(outbox.c.status).in_(HANDED_OVER),
            not_by_index(outbox.c.send_on).in_(days.unique().to_list()),
        )
    )
    found = fetch(connection, query, columns)
    staged.drop(connection)
    return found


def move(
    connection: Connection,
    changes: pl.DataFrame,
    *,
    allowed_from: Sequence[str],
    worker: str | None = None,
    unchanged: Sequence[str] = (),
) -> int:
    """Set the frame's columns on its ``outbox_id`` rows that are still in ``allowed_from`` (and, with
    ``worker``, still claimed by it, and whose ``unchanged`` columns still hold the frame's values): a row
    another worker or a payment moved on keeps its state."""
    matching = {"claimed_by": worker} if worker is not None else None
    return update_from(
        connection,
        outbox,
        changes,
        key="outbox_id",
        only_if=("status", allowed_from),
        matching=matching,
        unchanged=unchanged,
    )


def renew_lease(connection: Connection, outbox_ids: Sequence[int], worker: str, until: datetime) -> int:
    """Extend the lease on rows this worker still holds ``sending``."""
    if not outbox_ids:
        return 0
    result = connection.execute(
        update(outbox)
        .where(outbox.c.outbox_id.in_(list(outbox_ids)), outbox.c.status == S.SENDING, outbox.c.claimed_by == worker)
        .values(lease_until=_utc(until))
    )
    return int(result.rowcount)


def record_attempts(connection: Connection, attempts: pl.DataFrame) -> int:
    return insert(connection, delivery_attempts, attempts) if attempts.height else 0


def expire_leases(connection: Connection, channel: Channel, now: datetime, lookup_delay: timedelta) -> int:
    """Rows left ``sending`` by a worker whose lease ran out (it crashed or was killed mid-batch) become
    ``unknown``: the provider may have them, so they are reconciled, never sent again blindly — and not
    before the provider's search can be trusted (``lookup_delay`` after now, so after the send too)."""
    result = connection.execute(
        update(outbox)
        .where(outbox.c.channel == channel.value, outbox.c.status == S.SENDING, outbox.c.lease_until <= _utc(now))
        .values(
            status=S.UNKNOWN,
            last_error="the delivering worker stopped before it recorded the provider's answer",
            next_attempt_at=_utc(now + lookup_delay),
            updated_at=func.now(),
        )
    )
    return int(result.rowcount)


def unknown_rows(connection: Connection, channel: Channel, now: datetime, limit: int) -> pl.DataFrame:
    """Rows whose send had an unknown outcome, due to be reconciled (``CLAIM_SCHEMA``)."""
    at = _utc(now)
    where = [
        outbox.c.channel == channel.value,
        outbox.c.status == S.UNKNOWN,
        or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= at),
    ]
    query = _with_messages(where, limit, lock=connection.dialect.name == "postgresql")
    return _decode(fetch(connection, query, CLAIM_SCHEMA))


def mark_refused(connection: Connection, refusals: pl.DataFrame, now: datetime) -> int:
    """Record what providers said of contacts: ``customer_id, channel, recipient, opted_out``.

    A refused address is kept as the refused value (the channel reaches the customer again once their
    address changes); an opt-out at the provider (Twilio 21610) is the customer's opt-out.
    """
    changed = 0
    for row in refusals.iter_rows(named=True):
        spec = CHANNELS[Channel(row["channel"])]
        statement = update(customers).where(customers.c.customer_id == row["customer_id"])
        if row["opted_out"]:
            statement = statement.where(customers.c[spec.opt_out].is_(None)).values({spec.opt_out: _utc(now)})
        else:
            statement = statement.values({spec.refused: row["recipient"], f"{spec.refused}_at": _utc(now)})
        changed += int(connection.execute(statement).rowcount)
    return changed


def due_counts(connection: Connection, now: datetime) -> dict[str, int]:
    """Per channel, rows a delivery run would act on now: due sends, unknown outcomes, expired leases."""
    at = _utc(now)
    counts: dict[str, int] = {}
    for channel in CHANNELS:
        due = and_(*_due_now(channel, now))  # type: ignore[arg-type]
        reconcile = and_(
            outbox.c.channel == channel.value,
            or_(
                and_(
                    outbox.c.status == S.UNKNOWN,
                    or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= at),
                ),
                and_(outbox.c.status == S.SENDING, outbox.c.lease_until <= at),
            ),
        )
        query = select(func.count()).select_from(outbox).where(or_(due, reconcile))
        counts[channel.value] = int(connection.execute(query).scalar_one())
    return counts


def delivery_status(connection: Connection, first: date, last: date) -> dict[str, dict[str, int]]:
    """Per channel, rows per status among those to be sent from ``first`` to ``last``."""
    query = (
        select(outbox.c.channel, outbox.c.status, func.count())
        .where(outbox.c.send_on >= first, outbox.c.send_on <= last)
        .group_by(outbox.c.channel, outbox.c.status)
    )
    result: dict[str, dict[str, int]] = {}
    for channel, status, count in connection.execute(query):
        result.setdefault(str(channel), {})[str(status)] = int(count)
    return result


def sent_messages(connection: Connection, outbox_ids: Sequence[int], limit: int) -> pl.DataFrame:
    """Up to ``limit`` of these rows with their message's template and size and the provider's id (previews)."""
    columns = {
        **schema_of(outbox, ["outbox_id", "customer_id", "channel", "provider_id", "status"]),
        **schema_of(reminder_messages, ["recipient", "template", "locale", "sms_segments", "body_text"]),
    }
    query = (
        select(
            outbox.c.outbox_id,
            outbox.c.customer_id,
            outbox.c.channel,
            outbox.c.provider_id,
            outbox.c.status,
            reminder_messages.c.recipient,
            reminder_messages.c.template,
            reminder_messages.c.locale,
            reminder_messages.c.sms_segments,
            reminder_messages.c.body_text,
        )
        .join(reminder_messages, reminder_messages.c.outbox_id == outbox.c.outbox_id)
        .where(outbox.c.outbox_id.in_(list(outbox_ids)[: max(limit * 10, limit)]))
        .order_by(outbox.c.outbox_id)
        .limit(limit)
    )
    return fetch(connection, query, columns)
