"""Billing and receivables queries: what was invoiced and received, balances, credits, and the billing
tables' own consistency, as polars frames typed by the tables."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import ColumnElement, Connection, FromClause, Subquery, Table, and_, case, func, or_, select

from reminder_pipeline.core.canonical import HISTORY_PAYMENT_METHOD
from reminder_pipeline.core.channels import CHANNELS, ChannelSpec
from reminder_pipeline.core.history import SETTLEMENT_SUFFIX
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.bulk import fetch, fetch_by_keys, schema_of, stage

ALL_TIME = date(9999, 12, 31)
"""An ``as_of`` that counts every payment the ledger knows."""
INVOICE_COLUMNS = ["invoice_id", "customer_id", "issue_date", "due_date", "amount_minor", "currency"]
OPEN_INVOICE_SCHEMA = {
    **schema_of(schema.invoices, INVOICE_COLUMNS),
    "paid_minor": pl.Int64(),
    "balance_minor": pl.Int64(),
}
INVOICE_LINE_SCHEMA = {**schema_of(schema.invoices, INVOICE_COLUMNS), "balance_minor": pl.Int64()}


def paid_sum(counted: ColumnElement[bool] | None = None) -> ColumnElement[int]:
    """The money an invoice received, as an aggregate over its ``payments`` rows (those ``counted``, else all).

    An invoice-history file reports what was paid; a payments feed records each payment. When
    both describe an invoice they describe the same money, so the larger counts, never the sum.
    """
    pay = schema.payments
    reported = func.coalesce(pay.c.method, "") == HISTORY_PAYMENT_METHOD
    amount = pay.c.amount_minor if counted is None else case((counted, pay.c.amount_minor), else_=0)
    recorded_sum = func.sum(case((reported, 0), else_=amount))
    reported_sum = func.sum(case((reported, amount), else_=0))
    return case((recorded_sum >= reported_sum, recorded_sum), else_=reported_sum)


def paid_per_invoice(as_of: date | None = None, only: FromClause | None = None) -> Subquery:
    """``invoice_id, paid``: money received per invoice (by ``as_of``; of the invoices in ``only``), as
    ``paid_sum`` counts it."""
    pay = schema.payments
    query = select(pay.c.invoice_id, paid_sum().label("paid")).group_by(pay.c.invoice_id)
    if only is not None:
        # as a list the payments' invoice index is searched with: joined, SQLite's planner summed every
        # payment (its invoice index walked whole, for the GROUP BY) and probed ``only`` for each row
        query = query.where(pay.c.invoice_id.in_(select(only.c.invoice_id)))
    if as_of is not None:
        query = query.where(pay.c.paid_date <= as_of)
    return query.subquery()


def open_invoices(connection: Connection, as_of: date) -> pl.DataFrame:
    """Invoices issued by ``as_of`` with a balance left after payments made by ``as_of``."""
    inv = schema.invoices
    paid = paid_per_invoice(as_of)
    paid_minor = func.coalesce(paid.c.paid, 0)
    query = (
        select(
            inv.c.invoice_id,
            inv.c.customer_id,
            inv.c.issue_date,
            inv.c.due_date,
            inv.c.amount_minor,
            inv.c.currency,
            paid_minor.label("paid_minor"),
            (inv.c.amount_minor - paid_minor).label("balance_minor"),
        )
        .select_from(inv.outerjoin(paid, paid.c.invoice_id == inv.c.invoice_id))
        .where(inv.c.issue_date <= as_of, inv.c.amount_minor - paid_minor > 0)
    )
    return fetch(connection, query, OPEN_INVOICE_SCHEMA)


def open_balances(connection: Connection, invoice_ids: pl.Series) -> pl.DataFrame:
    """``invoice_id, balance_minor`` of those of these invoices still owed after every payment the ledger
    knows (their ``invoice_lines`` with a balance left), without reading every open invoice."""
    lines = invoice_lines(connection, invoice_ids.drop_nulls().unique())
    return lines.filter(pl.col("balance_minor") > 0).select("invoice_id", "balance_minor")


def row_counts(connection: Connection) -> dict[str, int]:
    tables = (
        "customers",
        "invoices",
        "payments",
        "disputes",
        "promises_to_pay",
        "quarantine",
    )
    return {
        name: int(connection.execute(select(func.count()).select_from(schema.metadata.tables[name])).scalar_one())
        for name in tables
    }


def payment_inconsistencies(connection: Connection) -> dict[str, int]:
    """Payments that contradict their invoice or their id, which ingestion never writes (foreign keys
    cannot catch these): another customer's or currency's money, or a settlement an invoice history
    reported filed under another id.
    """
    pay, inv = schema.payments, schema.invoices
    reported = func.coalesce(pay.c.method, "") == HISTORY_PAYMENT_METHOD
    own_settlement_id = pay.c.payment_id == pay.c.invoice_id.concat(SETTLEMENT_SUFFIX)
    misfiled = or_(and_(reported, ~own_settlement_id), and_(~reported, pay.c.payment_id.endswith(SETTLEMENT_SUFFIX)))

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = connection.execute(
        select(
            count(pay.c.customer_id != inv.c.customer_id),
            count(pay.c.currency != inv.c.currency),
            count(misfiled),
        ).select_from(pay.join(inv, inv.c.invoice_id == pay.c.invoice_id))
    ).one()
    return {
        "customer_differs_from_invoice": int(row[0]),
        "currency_differs_from_invoice": int(row[1]),
        "misfiled_settlements": int(row[2]),
    }


OVERPAID_SCHEMA = {
    **schema_of(schema.invoices, ["invoice_id", "customer_id", "currency", "amount_minor"]),
    "paid_minor": pl.Int64(),
    "excess_minor": pl.Int64(),
}


def overpaid_invoices(connection: Connection, invoice_ids: pl.Series | None = None) -> pl.DataFrame:
    """Invoices paid beyond their amount (of ``invoice_ids``, else all): the excess is the customer's credit.

    The payments are stored whole, so the excess is derived, never kept apart: the invoice's
    balance is zero and ``excess_minor`` = paid - amount.
    """
    inv = schema.invoices
    only: Table | None = None
    if invoice_ids is not None:
        distinct = invoice_ids.drop_nulls().unique()
        if distinct.is_empty():
            return pl.DataFrame(schema=OVERPAID_SCHEMA)
        only = stage(connection, pl.DataFrame({"invoice_id": distinct}), inv)
    paid = paid_per_invoice(only=only)
    query = (
        select(
            inv.c.invoice_id,
            inv.c.customer_id,
            inv.c.currency,
            inv.c.amount_minor,
            paid.c.paid,
            (paid.c.paid - inv.c.amount_minor).label("excess_minor"),
        )
        .join(paid, paid.c.invoice_id == inv.c.invoice_id)
        .where(paid.c.paid > inv.c.amount_minor)
        .order_by(inv.c.invoice_id)
    )
    overpaid = fetch(connection, query, OVERPAID_SCHEMA)
    if only is not None:
        only.drop(connection)
    return overpaid


def customer_credits(connection: Connection) -> pl.DataFrame:
    """Per customer and currency: money received beyond what their invoices asked (to refund or apply)."""
    return (
        overpaid_invoices(connection)
        .group_by("customer_id", "currency")
        .agg(pl.len().alias("overpaid_invoices"), pl.col("excess_minor").sum().alias("credit_minor"))
        .with_columns(pl.col("overpaid_invoices").cast(pl.Int64))
        .sort("customer_id", "currency")
    )


def reaches(spec: ChannelSpec) -> ColumnElement[bool]:
    """:func:`~reminder_pipeline.core.channels.reachable` in SQL, over ``customers``: read from the channel
    registry (an address, no opt-out, consent where needed, not refused for good)."""
    c = schema.customers.c
    address, refused = c[spec.address], c[spec.refused]
    conditions: list[ColumnElement[bool]] = [address.is_not(None), c[spec.opt_out].is_(None)]
    if spec.consent is not None:
        conditions.append(c[spec.consent].is_(True))
    conditions.append(or_(refused.is_(None), refused != address))
    return and_(*conditions)


def customer_reachability(connection: Connection) -> dict[str, int]:
    """How many customers can be reached by each channel, by neither (consent, opt-outs and refusals applied)."""
    c = schema.customers
    ok = {channel.value: reaches(spec) for channel, spec in CHANNELS.items()}
    row = connection.execute(
        select(func.count(), *(func.sum(case((clause, 1), else_=0)) for clause in ok.values())).select_from(c)
    ).one()
    total, *counts = (int(v or 0) for v in row)
    unreachable_query = select(func.count()).where(*(~clause for clause in ok.values()))
    unreachable = int(connection.execute(unreachable_query.select_from(c)).scalar_one())
    return {
        "customers": total,
        **{f"reachable_by_{name}": n for name, n in zip(ok, counts, strict=True)},
        "unreachable": unreachable,
    }


def payments_received(connection: Connection, first: date, last: date) -> pl.DataFrame:
    pay = schema.payments
    query = (
        select(
            pay.c.currency,
            func.count().label("payments"),
            func.sum(pay.c.amount_minor).label("balance_minor"),
        )
        .where(pay.c.paid_date.between(first, last))
        .group_by(pay.c.currency)
        .order_by(pay.c.currency)
    )
    return fetch(
        connection,
        query,
        {**schema_of(pay, ["currency"]), "payments": pl.Int64(), "balance_minor": pl.Int64()},
    )


def invoiced(connection: Connection, first: date, last: date) -> pl.DataFrame:
    inv = schema.invoices
    query = (
        select(inv.c.currency, func.count().label("invoices"), func.sum(inv.c.amount_minor).label("balance_minor"))
        .where(inv.c.issue_date.between(first, last))
        .group_by(inv.c.currency)
        .order_by(inv.c.currency)
    )
    return fetch(
        connection, query, {**schema_of(inv, ["currency"]), "invoices": pl.Int64(), "balance_minor": pl.Int64()}
    )


def invoice_lines(connection: Connection, invoice_ids: pl.Series) -> pl.DataFrame:
    """``INVOICE_LINE_SCHEMA`` of these invoices, with the balance the ledger shows now."""
    found = fetch_by_keys(connection, schema.invoices, "invoice_id", invoice_ids, INVOICE_COLUMNS)
    if found.is_empty():
        return pl.DataFrame(schema=INVOICE_LINE_SCHEMA)
    staged = stage(connection, found.select("invoice_id"), schema.invoices)
    paid = paid_per_invoice(only=staged)
    received = fetch(
        connection,
        select(paid.c.invoice_id, paid.c.paid),
        {**schema_of(schema.invoices, ["invoice_id"]), "paid": pl.Int64()},
    )
    staged.drop(connection)
    return (
        found.join(received, on="invoice_id", how="left")
        .with_columns((pl.col("amount_minor") - pl.col("paid").fill_null(0)).clip(lower_bound=0).alias("balance_minor"))
        .select(list(INVOICE_LINE_SCHEMA))
    )
