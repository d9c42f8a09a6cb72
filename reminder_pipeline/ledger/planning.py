"""What a day's reminder planning reads from the ledger: the invoices open when the day began, disputes,
promises, contacts, segments and the outbox rows its caps and steps depend on."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Connection, Select, and_, func, or_, select

from reminder_pipeline.core.outbox import COLLECTOR_CHANNEL, OutboxStatus
from reminder_pipeline.core.planning.plan import CREDIT_SCHEMA, HANDED_OVER_SCHEMA, PROMISE_SCHEMA, PlanInputs
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.bulk import fetch, fetch_by_keys, schema_of
from reminder_pipeline.ledger.outbox import outbox_for_planning
from reminder_pipeline.ledger.receivables import INVOICE_LINE_SCHEMA, paid_sum

CONTACT_SCHEMA = schema_of(
    schema.customers,
    [
        "customer_id",
        "name",
        "email",
        "phone",
        "country",
        "time_zone",
        "locale",
        "preferred_channel",
        "email_opt_out_at",
        "sms_opt_out_at",
        "sms_consent",
        "email_refused",
        "phone_refused",
    ],
)


PLANNING_COLUMNS = ["invoice_id", "customer_id", "issue_date", "due_date", "currency", "amount_minor"]
RECEIVABLES_SCHEMA = {
    **schema_of(schema.invoices, PLANNING_COLUMNS),
    "paid_then": pl.Int64(),
    "balance_minor": pl.Int64(),
}


def _receivables_query(day: date, *, credits: bool) -> Select[Any]:
    """Invoices issued by ``day`` with ``paid_then`` (by the day before) and ``balance_minor`` (now, unclipped),
    from one pass over the payments: those open when ``day`` began, and (``credits``) any paid beyond its amount."""
    inv, pay = schema.invoices, schema.payments
    paid = (
        select(
            pay.c.invoice_id,
            paid_sum(pay.c.paid_date <= day - timedelta(days=1)).label("paid_then"),
            paid_sum().label("paid_now"),
        )
        .group_by(pay.c.invoice_id)
        .subquery("paid")
    )
    paid_then, paid_now = func.coalesce(paid.c.paid_then, 0), func.coalesce(paid.c.paid_now, 0)
    was_open = and_(inv.c.issue_date <= day, inv.c.amount_minor - paid_then > 0)
    return (
        select(
            *[inv.c[c] for c in PLANNING_COLUMNS],
            paid_then.label("paid_then"),
            (inv.c.amount_minor - paid_now).label("balance_minor"),
        )
        .select_from(inv.outerjoin(paid, paid.c.invoice_id == inv.c.invoice_id))
        .where(or_(was_open, paid_now > inv.c.amount_minor) if credits else was_open)
    )


def _open_then(rows: pl.DataFrame, day: date) -> pl.DataFrame:
    columns = [c for c in INVOICE_LINE_SCHEMA if c != "amount_minor"]
    was_open = (pl.col("issue_date") <= day) & (pl.col("amount_minor") - pl.col("paid_then") > 0)
    return rows.filter(was_open).select(columns).with_columns(pl.col("balance_minor").clip(lower_bound=0))


def invoices_for_planning(connection: Connection, day: date) -> pl.DataFrame:
    """Invoices open when ``day`` began (issued by then, not paid before it), with the balance the ledger
    shows now: one paid since is still decided on, as paid, and its unsent reminders cancelled."""
    return _open_then(fetch(connection, _receivables_query(day, credits=False), RECEIVABLES_SCHEMA), day)


def receivables_for_planning(connection: Connection, day: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``invoices_for_planning`` and the customers' credits (``CREDIT_SCHEMA``: as ``customer_credits`` adds
    them up) from one read of the payments."""
    rows = fetch(connection, _receivables_query(day, credits=True), RECEIVABLES_SCHEMA)
    credits = (
        rows.filter(pl.col("balance_minor") < 0)
        .group_by("customer_id", "currency")
        .agg((-pl.col("balance_minor")).sum().alias("credit_minor"))
        .sort("customer_id", "currency")
    )
    return _open_then(rows, day), credits.select(list(CREDIT_SCHEMA))


KEYS_PER_QUERY = 1_000
"""Invoices one query for a batch's disputes names: an IN list the disputes' invoice index is searched with
(at a claim's few hundred invoices quicker than a staging table's round trips on PostgreSQL, and far below
SQLite's limit of bound parameters)."""


def open_disputes(connection: Connection, day: date, invoice_ids: pl.Series | None = None) -> pl.DataFrame:
    """Invoices with a dispute not resolved by ``day`` (one opened since counts too: never chase it): of
    ``invoice_ids`` (a batch reads its own invoices' disputes), or of every invoice."""
    d = schema.disputes
    columns = schema_of(d, ["invoice_id"])
    query = select(d.c.invoice_id).where(or_(d.c.resolved_on.is_(None), d.c.resolved_on > day)).distinct()
    if invoice_ids is None:
        return fetch(connection, query, columns)
    keys = invoice_ids.drop_nulls().unique().sort().to_list()
    found = [
        fetch(connection, query.where(d.c.invoice_id.in_(keys[start : start + KEYS_PER_QUERY])), columns)
        for start in range(0, len(keys), KEYS_PER_QUERY)
    ]
    return pl.concat(found) if found else pl.DataFrame(schema=columns)


def promises(connection: Connection, customer_ids: pl.Series | None = None) -> pl.DataFrame:
    """Every promise to pay (of ``customer_ids``: a batch reads its own, not the whole table), as
    ``PROMISE_SCHEMA`` says (its types the table's)."""
    p = schema.promises_to_pay
    columns = schema_of(p, list(PROMISE_SCHEMA))
    if customer_ids is not None:
        return fetch_by_keys(connection, p, "customer_id", customer_ids, list(columns))
    return fetch(connection, select(*[p.c[c] for c in columns]), columns)


def contacts(connection: Connection, customer_ids: pl.Series | None = None) -> pl.DataFrame:
    """Contact details, consent and opt-outs as the ledger holds them now (of ``customer_ids``, or everyone)."""
    if customer_ids is not None:
        return fetch_by_keys(connection, schema.customers, "customer_id", customer_ids, list(CONTACT_SCHEMA))
    c = schema.customers
    return fetch(connection, select(*[c.c[name] for name in CONTACT_SCHEMA]), CONTACT_SCHEMA)


def segments_of(connection: Connection, day: date) -> pl.DataFrame:
    s = schema.customer_segments
    columns = schema_of(s, ["customer_id", "risk_band", "aging_bucket", "value_tier", "channel"])
    return fetch(connection, select(*[s.c[c] for c in columns]).where(s.c.business_date == day), columns)


def handed_over(connection: Connection, day: date) -> pl.DataFrame:
    """``HANDED_OVER_SCHEMA``: the invoices of every collector row planned by ``day`` and not cancelled (an open
    or a closed task: a collector's until paid), read through the status index (collector rows are few)."""
    o = schema.outbox
    query = select(o.c.customer_id, o.c.invoice_ids, o.c.business_date).where(
        o.c.status.in_([OutboxStatus.TASK_OPEN, OutboxStatus.TASK_DONE]),
        o.c.channel == COLLECTOR_CHANNEL,
        o.c.business_date <= day,
    )
    rows = fetch(connection, query, schema_of(o, ["customer_id", "invoice_ids", "business_date"]))
    return (
        rows.with_columns(pl.col("invoice_ids").str.json_decode(pl.List(pl.String())).alias("invoice_id"))
        .explode("invoice_id")
        .drop_nulls("invoice_id")
        .select(list(HANDED_OVER_SCHEMA))
    )


def plan_inputs(connection: Connection, day: date, now: datetime, *, business_tz: str, horizon_days: int) -> PlanInputs:
    """Everything a day's decisions need from the ledger."""
    invoices, credits = receivables_for_planning(connection, day)
    return PlanInputs(
        day=day,
        now=now,
        open_invoices=invoices,
        disputed=open_disputes(connection, day),
        promises=promises(connection),
        customers=contacts(connection, invoices["customer_id"]),
        segments=segments_of(connection, day),
        outbox=outbox_for_planning(connection, day, now, horizon_days, invoices["invoice_id"]),
        business_tz=business_tz,
        credits=credits,
        handed_over=handed_over(connection, day),
    )
