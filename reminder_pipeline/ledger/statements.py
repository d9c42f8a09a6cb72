"""A cycle day's statements in the ledger: the cycle's customers, their courtesy reminders, what the
statements' timing depends on, and the statements written to the outbox at most once each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl
from sqlalchemy import Connection, func, select

from reminder_pipeline.core.outbox import NOT_HANDED_OVER, REVIVABLE, STATEMENT_LADDER, STATEMENT_STEP
from reminder_pipeline.core.policy.config import Tone
from reminder_pipeline.core.statements.cycles import cycle_days_on
from reminder_pipeline.core.statements.plan import OUTBOX_COLUMNS, SLOT_DAYS, StatementInputs, StatementPlan
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.bulk import fetch, fetch_by_keys, json_array, schema_of, update_from
from reminder_pipeline.ledger.outbox import upsert_outbox
from reminder_pipeline.ledger.pauses import paused_on
from reminder_pipeline.ledger.planning import contacts, invoices_for_planning, open_disputes

CYCLE_SCHEMA = schema_of(schema.customers, ["customer_id", "billing_cycle_day"])
COURTESY_COLUMNS = ["customer_id", "invoice_ids", "status", "tone", "ladder", "step", "episode_id"]


def cycle_customers(connection: Connection, day: date) -> pl.DataFrame:
    """``customer_id, billing_cycle_day`` of the customers whose billing cycle falls on ``day``."""
    c = schema.customers
    query = select(c.c.customer_id, c.c.billing_cycle_day).where(c.c.billing_cycle_day.in_(cycle_days_on(day)))
    return fetch(connection, query, CYCLE_SCHEMA)


def count_cycle_customers(connection: Connection, day: date) -> int:
    c = schema.customers
    query = select(func.count()).select_from(c).where(c.c.billing_cycle_day.in_(cycle_days_on(day)))
    return int(connection.execute(query).scalar_one())


def courtesy_rows(connection: Connection, customer_ids: pl.Series) -> pl.DataFrame:
    """The outbox's courtesy reminders of ``customer_ids``: ``customer_id, invoice_ids`` (a list), ``status``.

    A statement that a courtesy note was folded into stands for it, for the invoice of its episode."""
    rows = fetch_by_keys(connection, schema.outbox, "customer_id", customer_ids, COURTESY_COLUMNS)
    folded = (pl.col("ladder") == STATEMENT_LADDER) & (pl.col("step") != STATEMENT_STEP)
    courtesy = rows.filter((pl.col("tone") == Tone.COURTESY.value) | folded)
    ids = (
        pl.when(pl.col("ladder") == STATEMENT_LADDER)
        .then(pl.concat_list(pl.col("episode_id")))
        .otherwise(pl.col("invoice_ids").str.json_decode(pl.List(pl.String)))
    )
    return courtesy.select("customer_id", ids.alias("invoice_ids"), "status")


def statement_inputs(connection: Connection, day: date, now: datetime, *, business_tz: str) -> StatementInputs:
    """Everything a cycle day's statements need: the cycle's customers, what they owe, their contact details,
    and their outbox rows around the days a statement may arrive on."""
    cycle = cycle_customers(connection, day)
    ids = cycle["customer_id"]
    invoices = invoices_for_planning(connection, day).join(cycle.select("customer_id"), on="customer_id", how="semi")
    rows = fetch_by_keys(connection, schema.outbox, "customer_id", ids, list(OUTBOX_COLUMNS))
    around = rows.filter(
        pl.col("send_on").is_between(day - timedelta(days=SLOT_DAYS + 7), day + timedelta(days=2 * SLOT_DAYS))
    )
    return StatementInputs(
        day=day,
        now=now,
        cycle=cycle,
        open_invoices=invoices,
        disputed=open_disputes(connection, day),
        customers=contacts(connection, ids),
        outbox=around.cast(OUTBOX_COLUMNS),  # type: ignore[arg-type]
        business_tz=business_tz,
        paused=paused_on(connection, day).select("customer_id"),
    )


@dataclass(frozen=True)
class StatementWrite:
    inserted: int
    revived: int
    unchanged: int
    folded: int


def write_statements(connection: Connection, plan: StatementPlan, *, policy_version: str) -> StatementWrite:
    """The statements into the outbox, at most once per customer and cycle date (a re-run or a backfill finds
    the row and leaves it, unless it never went out); the courtesy notes of the statements written now
    cancelled, folded into them."""
    rows = plan.outbox.with_columns(
        json_array(pl.col("invoice_ids")).alias("invoice_ids"), pl.lit(policy_version).alias("policy_version")
    )
    existing = fetch_by_keys(connection, schema.outbox, "dedupe_key", rows["dedupe_key"], ["dedupe_key", "status"])
    revivable = existing.filter(pl.col("status").is_in(REVIVABLE))
    fresh = rows.filter(
        ~pl.col("dedupe_key").is_in(existing["dedupe_key"].implode())
        | pl.col("dedupe_key").is_in(revivable["dedupe_key"].implode())
    )
    if fresh.height:
        # a revived statement is planned again in full: its channel and the step it stands for may differ now
        upsert_outbox(connection, fresh, keep=frozenset({"dedupe_key", "customer_id"}))
    folded = plan.folded.join(fresh.select("customer_id"), on="customer_id", how="semi").drop("customer_id")
    return StatementWrite(
        inserted=rows.height - existing.height,
        revived=revivable.height,
        unchanged=existing.height - revivable.height,
        folded=update_from(connection, schema.outbox, folded, key="outbox_id", only_if=("status", NOT_HANDED_OVER)),
    )
