"""A customer's page: everything the ledger holds about them, read by key (indexed by customer)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.receivables import paid_per_invoice

LIMIT = 100


@dataclass(frozen=True)
class CustomerRecord:
    customer: dict[str, Any]
    invoices: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]
    replies: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    score: dict[str, Any] | None
    reasons: list[str]
    actions: list[dict[str, Any]]
    promises: list[dict[str, Any]]
    disputes: list[dict[str, Any]]
    pauses: list[dict[str, Any]]


def _rows(connection: Connection, query: object) -> list[dict[str, Any]]:
    return [dict(r) for r in connection.execute(query).mappings()]  # type: ignore[call-overload]


def customer_record(connection: Connection, customer_id: str) -> CustomerRecord | None:
    s = schema
    customer = (
        connection.execute(select(s.customers).where(s.customers.c.customer_id == customer_id)).mappings().first()
    )
    if customer is None:
        return None
    inv = s.invoices
    paid = paid_per_invoice(only=select(inv.c.invoice_id).where(inv.c.customer_id == customer_id).subquery())
    invoices = _rows(
        connection,
        select(
            inv.c.invoice_id,
            inv.c.issue_date,
            inv.c.due_date,
            inv.c.amount_minor,
            inv.c.currency,
            func.coalesce(paid.c.paid, 0).label("paid_minor"),
        )
        .select_from(inv.outerjoin(paid, paid.c.invoice_id == inv.c.invoice_id))
        .where(inv.c.customer_id == customer_id)
        .order_by(inv.c.due_date.desc(), inv.c.invoice_id)
        .limit(LIMIT),
    )
    dec = s.reminder_decisions
    decisions = _rows(
        connection,
        select(
            dec.c.business_date,
            dec.c.decision,
            dec.c.reason,
            dec.c.detail,
            dec.c.step,
            dec.c.channel,
            dec.c.send_on,
            dec.c.decided_at,
        )
        .where(dec.c.customer_id == customer_id)
        .order_by(dec.c.business_date.desc(), dec.c.decision_id.desc())
        .limit(LIMIT),
    )
    out, msg = s.outbox, s.reminder_messages
    messages = _rows(
        connection,
        select(
            out.c.outbox_id,
            out.c.step,
            out.c.channel,
            out.c.status,
            out.c.status_reason,
            out.c.send_on,
            out.c.sent_at,
            out.c.provider_status,
            msg.c.subject,
            msg.c.body_text,
            msg.c.recipient,
        )
        .select_from(out.outerjoin(msg, msg.c.outbox_id == out.c.outbox_id))
        .where(out.c.customer_id == customer_id)
        .order_by(out.c.send_on.desc(), out.c.outbox_id.desc())
        .limit(LIMIT),
    )
    ids = [m["outbox_id"] for m in messages]
    ev = s.delivery_events
    deliveries = (
        _rows(
            connection,
            select(ev.c.outbox_id, ev.c.provider, ev.c.event, ev.c.error_code, ev.c.occurred_at)
            .where(ev.c.outbox_id.in_(ids))
            .order_by(ev.c.occurred_at.desc())
            .limit(LIMIT),
        )
        if ids
        else []
    )
    rep, pay = s.replies, s.payments
    replies = _rows(
        connection,
        select(rep.c.channel, rep.c.body, rep.c.received_at, rep.c.intent, rep.c.action, rep.c.promised_date)
        .where(rep.c.customer_id == customer_id)
        .order_by(rep.c.received_at.desc())
        .limit(LIMIT),
    )
    payments = _rows(
        connection,
        select(pay.c.payment_id, pay.c.invoice_id, pay.c.paid_date, pay.c.amount_minor, pay.c.currency, pay.c.method)
        .where(pay.c.customer_id == customer_id)
        .order_by(pay.c.paid_date.desc())
        .limit(LIMIT),
    )
    rs = s.risk_scores
    score = (
        connection.execute(
            select(rs).where(rs.c.customer_id == customer_id).order_by(rs.c.business_date.desc()).limit(1)
        )
        .mappings()
        .first()
    )
    act, prom, pause, disp = s.collector_actions, s.promises_to_pay, s.reminder_pauses, s.disputes
    actions = _rows(
        connection,
        select(act).where(act.c.customer_id == customer_id).order_by(act.c.action_id.desc()).limit(LIMIT),
    )
    promises = _rows(
        connection,
        select(prom.c.promised_date, prom.c.made_on, prom.c.status, prom.c.source, prom.c.amount_minor, prom.c.currency)
        .where(prom.c.customer_id == customer_id)
        .order_by(prom.c.made_on.desc())
        .limit(LIMIT),
    )
    disputes = _rows(
        connection,
        select(disp.c.invoice_id, disp.c.opened_on, disp.c.resolved_on, disp.c.reason)
        .select_from(disp.join(inv, inv.c.invoice_id == disp.c.invoice_id))
        .where(inv.c.customer_id == customer_id)
        .order_by(disp.c.opened_on.desc())
        .limit(LIMIT),
    )
    pauses = _rows(
        connection,
        select(pause).where(pause.c.customer_id == customer_id).order_by(pause.c.pause_id.desc()).limit(LIMIT),
    )
    reasons: list[str] = []
    if score is not None and score["reasons"]:
        try:
            reasons = [str(r) for r in json.loads(score["reasons"])]
        except ValueError:
            reasons = [str(score["reasons"])]
    return CustomerRecord(
        customer=dict(customer),
        invoices=invoices,
        decisions=decisions,
        messages=messages,
        deliveries=deliveries,
        replies=replies,
        payments=payments,
        score=None if score is None else dict(score),
        reasons=reasons,
        actions=actions,
        promises=promises,
        disputes=disputes,
        pauses=pauses,
    )
