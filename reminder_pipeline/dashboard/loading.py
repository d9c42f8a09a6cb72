"""What the dashboard reads from the ledger, aggregated in SQL: a few hundred thousand rows at most.

Only what can still matter is read: invoices open now, or issued or paid within ``HORIZON_DAYS``
(older ones were settled before any figure's window starts); reminders, replies and payments of
the last ``HORIZON_DAYS``. Every query takes an optional list of customers, so that a snapshot can
be refreshed for the few customers an event touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Connection, and_, func, or_, select
from sqlalchemy.sql import ColumnElement

from reminder_pipeline.core.history import PROMISES_OVER
from reminder_pipeline.core.outbox import COLLECTOR_CHANNEL, NOT_HANDED_OVER, OutboxStatus
from reminder_pipeline.core.planning.pauses import PAUSE_SCHEMA
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.bulk import fetch, schema_of
from reminder_pipeline.ledger.pauses import paused_query
from reminder_pipeline.ledger.receivables import INVOICE_COLUMNS, paid_per_invoice

HORIZON_DAYS = 250
"""DSO six months back needs 90 days of sales before it: 150 + 90 days, and a little more."""
CHUNK = 500
S = OutboxStatus
CONTACT_STATUSES = [S.SENT, S.DELIVERED, S.FAILED, S.UNKNOWN, S.UNRESOLVED]
"""Outbox statuses of a reminder that was handed to a provider (or refused by it)."""

INVOICE_SCHEMA = {**schema_of(schema.invoices, INVOICE_COLUMNS), "paid_minor": pl.Int64()}
PAYMENT_SCHEMA = {
    "invoice_id": pl.String(),
    "customer_id": pl.String(),
    "paid_date": pl.Date(),
    "amount_minor": pl.Int64(),
    "currency": pl.String(),
}
MESSAGE_SCHEMA = {
    "customer_id": pl.String(),
    "channel": pl.String(),
    "step": pl.String(),
    "status": pl.String(),
    "send_on": pl.Date(),
    "sent_at": pl.Datetime("us", "UTC"),
}
PLANNED_SCHEMA = {"customer_id": pl.String(), "step": pl.String(), "send_on": pl.Date(), "channel": pl.String()}
REPLY_SCHEMA = {"customer_id": pl.String(), "received_at": pl.Datetime("us", "UTC"), "intent": pl.String()}
SCORE_SCHEMA = {
    "customer_id": pl.String(),
    "p_late": pl.Float64(),
    "risk_band": pl.String(),
    "predicted_payment_date": pl.Date(),
}
SEGMENT_SCHEMA = {"customer_id": pl.String(), "segment": pl.String(), "channel": pl.String()}
CUSTOMER_SCHEMA = {"customer_id": pl.String(), "name": pl.String(), "preferred_channel": pl.String()}
PROMISE_SCHEMA = {"customer_id": pl.String(), "promised_date": pl.Date(), "status": pl.String(), "made_on": pl.Date()}
DISPUTE_SCHEMA = {"customer_id": pl.String(), "invoice_id": pl.String()}


@dataclass(frozen=True)
class Sources:
    day: date
    invoices: pl.DataFrame
    payments: pl.DataFrame
    messages: pl.DataFrame
    planned: pl.DataFrame
    replies: pl.DataFrame
    scores: pl.DataFrame
    segments: pl.DataFrame
    customers: pl.DataFrame
    promises: pl.DataFrame
    disputes: pl.DataFrame
    pauses: pl.DataFrame


def _chunks(ids: Sequence[str] | None) -> list[list[str] | None]:
    if ids is None:
        return [None]
    unique = sorted(set(ids))
    return [unique[i : i + CHUNK] for i in range(0, len(unique), CHUNK)]


def _invoices(connection: Connection, day: date, only: list[str] | None) -> pl.DataFrame:
    """Invoices issued by ``day`` still open, or issued or paid within the horizon, with what was paid on each."""
    inv, pay = schema.invoices, schema.payments
    theirs = None if only is None else select(inv.c.invoice_id).where(inv.c.customer_id.in_(only)).subquery()
    paid = paid_per_invoice(only=theirs)
    start = day - timedelta(days=HORIZON_DAYS)
    paid_minor = func.coalesce(paid.c.paid, 0)
    paid_lately = _where_customer(select(pay.c.invoice_id).where(pay.c.paid_date >= start), pay.c.customer_id, only)
    keep: ColumnElement[bool] = or_(
        inv.c.issue_date >= start,
        inv.c.amount_minor > paid_minor,
        inv.c.invoice_id.in_(paid_lately),
    )
    query = (
        select(*[inv.c[name] for name in INVOICE_COLUMNS], paid_minor.label("paid_minor"))
        .select_from(inv.outerjoin(paid, paid.c.invoice_id == inv.c.invoice_id))
        .where(and_(inv.c.issue_date <= day, keep))
    )
    return fetch(connection, _where_customer(query, inv.c.customer_id, only), INVOICE_SCHEMA)


def _since(day: date) -> datetime:
    return datetime.combine(day - timedelta(days=HORIZON_DAYS), time(0), tzinfo=UTC)


def _where_customer(query: Any, column: Any, only: list[str] | None) -> Any:
    return query if only is None else query.where(column.in_(only))


def _load_part(connection: Connection, day: date, only: list[str] | None) -> dict[str, pl.DataFrame]:
    start = day - timedelta(days=HORIZON_DAYS)
    pay, out, rep = schema.payments, schema.outbox, schema.replies
    c, rs, seg = schema.customers, schema.risk_scores, schema.customer_segments
    prom, disp, inv = schema.promises_to_pay, schema.disputes, schema.invoices
    score_day = select(func.max(rs.c.business_date)).where(rs.c.business_date <= day).scalar_subquery()
    segment_day = select(func.max(seg.c.business_date)).where(seg.c.business_date <= day).scalar_subquery()
    queries: dict[str, tuple[Any, Any, Any]] = {
        "payments": (
            select(pay.c.invoice_id, pay.c.customer_id, pay.c.paid_date, pay.c.amount_minor, pay.c.currency).where(
                pay.c.paid_date >= start, pay.c.paid_date <= day
            ),
            pay.c.customer_id,
            PAYMENT_SCHEMA,
        ),
        "messages": (
            select(out.c.customer_id, out.c.channel, out.c.step, out.c.status, out.c.send_on, out.c.sent_at).where(
                out.c.send_on >= start,
                out.c.send_on <= day,
                out.c.channel != COLLECTOR_CHANNEL,
                out.c.status.in_(CONTACT_STATUSES),
            ),
            out.c.customer_id,
            MESSAGE_SCHEMA,
        ),
        "planned": (
            select(out.c.customer_id, out.c.step, out.c.send_on, out.c.channel).where(
                out.c.status.in_([*NOT_HANDED_OVER, S.TASK_OPEN]), out.c.send_on >= day
            ),
            out.c.customer_id,
            PLANNED_SCHEMA,
        ),
        "replies": (
            select(rep.c.customer_id, rep.c.received_at, rep.c.intent).where(
                rep.c.received_at >= _since(day), rep.c.customer_id.is_not(None)
            ),
            rep.c.customer_id,
            REPLY_SCHEMA,
        ),
        "scores": (
            select(rs.c.customer_id, rs.c.p_late, rs.c.risk_band, rs.c.predicted_payment_date).where(
                rs.c.business_date == score_day
            ),
            rs.c.customer_id,
            SCORE_SCHEMA,
        ),
        "segments": (
            select(seg.c.customer_id, seg.c.segment, seg.c.channel).where(seg.c.business_date == segment_day),
            seg.c.customer_id,
            SEGMENT_SCHEMA,
        ),
        "customers": (select(c.c.customer_id, c.c.name, c.c.preferred_channel), c.c.customer_id, CUSTOMER_SCHEMA),
        "promises": (
            select(prom.c.customer_id, prom.c.promised_date, prom.c.status, prom.c.made_on).where(
                prom.c.status.not_in([s.value for s in PROMISES_OVER]), prom.c.made_on <= day
            ),
            prom.c.customer_id,
            PROMISE_SCHEMA,
        ),
        "disputes": (
            select(inv.c.customer_id, disp.c.invoice_id)
            .select_from(disp.join(inv, inv.c.invoice_id == disp.c.invoice_id))
            .where(or_(disp.c.resolved_on.is_(None), disp.c.resolved_on > day))
            .distinct(),
            inv.c.customer_id,
            DISPUTE_SCHEMA,
        ),
        "pauses": (paused_query(day), schema.reminder_pauses.c.customer_id, PAUSE_SCHEMA),
    }
    frames = {name: fetch(connection, _where_customer(q, col, only), cols) for name, (q, col, cols) in queries.items()}
    frames["invoices"] = _invoices(connection, day, only)
    return frames


def load_sources(connection: Connection, day: date, customer_ids: Sequence[str] | None = None) -> Sources:
    """Everything the snapshot needs as of ``day`` (of ``customer_ids`` only, when given)."""
    parts = [_load_part(connection, day, only) for only in _chunks(customer_ids)]
    frames = {name: pl.concat([p[name] for p in parts]) for name in parts[0]}
    return Sources(day=day, **frames)


def nothing(day: date) -> Sources:
    """Empty sources (before the first load)."""
    empty: dict[str, Any] = {
        "invoices": INVOICE_SCHEMA,
        "payments": PAYMENT_SCHEMA,
        "messages": MESSAGE_SCHEMA,
        "planned": PLANNED_SCHEMA,
        "replies": REPLY_SCHEMA,
        "scores": SCORE_SCHEMA,
        "segments": SEGMENT_SCHEMA,
        "customers": CUSTOMER_SCHEMA,
        "promises": PROMISE_SCHEMA,
        "disputes": DISPUTE_SCHEMA,
        "pauses": PAUSE_SCHEMA,
    }
    return Sources(day=day, **{k: pl.DataFrame(schema=v) for k, v in empty.items()})
