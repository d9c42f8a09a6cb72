"""The outbox in the ledger: the reminders planned (at most one row per dedupe key), their statuses, and
the audit of the decisions that planned them.

Planning writes a day's rows and cancels those no longer wanted; rendering and its checks move rows on
(``set_statuses``); rows never handed to a provider expire when their window ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import polars as pl
from sqlalchemy import Connection, and_, bindparam, func, select, text, update

from reminder_pipeline.core.outbox import (
    NOT_CONTACTS,
    NOT_HANDED_OVER,
    RENDERABLE,
    REVIVABLE,
    STATEMENT_LADDER,
    OutboxStatus,
)
from reminder_pipeline.core.planning.plan import OUTBOX_SCHEMA, Plan
from reminder_pipeline.core.planning.reasons import STOP_REASONS, SkipReason
from reminder_pipeline.core.planning.shards import ALL_CUSTOMERS, Shard
from reminder_pipeline.ledger.bulk import append, fetch, fetch_by_keys, json_array, schema_of, stage, update_from
from reminder_pipeline.ledger.schema import outbox, reminder_decisions


def _utc(moment: datetime) -> datetime:
    """An aware UTC instant: PostgreSQL compares it whatever the session's time zone, and SQLite's
    parameter text is the UTC wall time its timestamps are stored in."""
    return moment.astimezone(UTC)


def expire_unsent(connection: Connection, now: datetime) -> int:
    """Rows never handed to a provider whose window is over become ``expired``: nothing goes out late."""
    result = connection.execute(
        update(outbox)
        .where(outbox.c.status.in_(NOT_HANDED_OVER), outbox.c.window_end <= _utc(now))
        .values(
            status=OutboxStatus.EXPIRED, status_reason="the send window ended before it was sent", updated_at=func.now()
        )
    )
    return int(result.rowcount)


def outbox_for_planning(
    connection: Connection, day: date, now: datetime, horizon_days: int, episodes: pl.Series
) -> pl.DataFrame:
    """The outbox rows a day's decisions depend on (``OUTBOX_SCHEMA``), without reading its whole history.

    Of the rows that count as contacts (as ``counted_contacts`` says): those within ``horizon_days`` of
    the day either way (caps and intervals), and of every dunning episode among ``episodes`` (the
    invoices open that day) one row per step it reached, under whichever ladder (where the episode
    stands: ``episode_progress``).
    """
    unsent = outbox.c.status.in_(NOT_HANDED_OVER)
    counts = and_(
        outbox.c.status.not_in(NOT_CONTACTS),
        ~and_(unsent, outbox.c.window_end <= _utc(now)),
        ~and_(unsent, outbox.c.business_date == day, outbox.c.ladder != STATEMENT_LADDER),
    )
    types = schema_of(outbox, list(OUTBOX_SCHEMA))
    columns = [outbox.c[c] for c in types]
    recent = select(*columns).where(
        counts, outbox.c.send_on.between(day - timedelta(days=horizon_days), day + timedelta(days=horizon_days))
    )
    frames = [fetch(connection, recent, types)]
    if not (open_episodes := episodes.drop_nulls().unique()).is_empty():
        staged = stage(connection, pl.DataFrame({"episode_id": open_episodes}), outbox)
        per_step = (
            select(func.max(outbox.c.outbox_id).label("outbox_id"))
            .join(staged, staged.c.episode_id == outbox.c.episode_id)
            .where(counts)
            .group_by(outbox.c.customer_id, outbox.c.episode_id, outbox.c.step, outbox.c.offset_days)
            .subquery()
        )
        reached = select(*columns).join(per_step, per_step.c.outbox_id == outbox.c.outbox_id)
        frames.append(fetch(connection, reached, types))
        staged.drop(connection)
    return pl.concat(frames).unique("dedupe_key", keep="first").sort("dedupe_key")


def record_decisions(connection: Connection, decisions: pl.DataFrame, *, run_id: str, policy_version: str) -> int:
    """Append the day's decisions to the audit table: every run's decisions stay, whatever happens later."""
    rows = decisions.select([c for c in decisions.columns if c in reminder_decisions.c]).with_columns(
        json_array(pl.col("invoice_ids")).alias("invoice_ids"),
        json_array(pl.col("superseded_steps")).alias("superseded_steps"),
        pl.lit(run_id).alias("run_id"),
        pl.lit(policy_version).alias("policy_version"),
        pl.col("days_past_due", "step_index", "offset_days").cast(pl.Int64),
    )
    return append(connection, reminder_decisions, rows)


@dataclass(frozen=True)
class OutboxWrite:
    inserted: int
    revived: int
    unchanged: int
    cancelled: int


PLAN_KEEPS = frozenset({"dedupe_key", "customer_id", "episode_id", "ladder", "step", "channel"})
"""What a revived reminder keeps of its row: its identity (the rest is planned again)."""


def upsert_outbox(connection: Connection, rows: pl.DataFrame, *, keep: frozenset[str] = PLAN_KEEPS) -> None:
    """Insert new rows; a cancelled or expired one planned again is revived, every column but ``keep`` written
    anew; every other row is left alone."""
    staged = stage(connection, rows, outbox)
    columns = ", ".join(f'"{c}"' for c in rows.columns)
    assignments = ", ".join(f'"{c}" = excluded."{c}"' for c in rows.columns if c not in keep)
    statement = text(
        f'INSERT INTO "outbox" ({columns}) SELECT {columns} FROM "{staged.name}" WHERE true '
        f'ON CONFLICT ("dedupe_key") DO UPDATE SET {assignments}, "status_reason" = NULL, '
        f'"updated_at" = CURRENT_TIMESTAMP WHERE "outbox"."status" IN :revivable'
    ).bindparams(bindparam("revivable", expanding=True))
    connection.execute(statement, {"revivable": list(REVIVABLE)})
    staged.drop(connection)


def _stale_rows(connection: Connection, plan: Plan, day: date, shard: Shard) -> pl.DataFrame:
    """``outbox_id, status, status_reason`` of rows the new decisions no longer want.

    Unsent rows: the day's own that were not planned again, and any of a customer told to stop or
    with nothing open any more. Open collector tasks of a customer who has paid everything. A statement
    of account is no ladder step: only nothing owed any more cancels it here (the last look does the rest).
    Only ``shard``'s customers' rows: another shard's customers are not in these decisions.
    """
    columns = schema_of(outbox, ["outbox_id", "customer_id", "dedupe_key", "business_date", "status", "ladder"])
    query = select(*[outbox.c[c] for c in columns]).where(
        outbox.c.status.in_([*NOT_HANDED_OVER, OutboxStatus.TASK_OPEN]), outbox.c.business_date <= day
    )
    candidates = shard.members(fetch(connection, query, columns))
    decided = plan.decisions.select("customer_id", "reason")
    frame = candidates.join(decided, on="customer_id", how="left").with_columns(
        pl.col("customer_id").is_in(decided["customer_id"].implode()).alias("_decided")
    )
    unsent = pl.col("status").is_in(NOT_HANDED_OVER)
    nothing_owed = ~pl.col("_decided") | (pl.col("reason") == SkipReason.PAID.value)
    replaced = (pl.col("business_date") == day) & ~pl.col("dedupe_key").is_in(plan.outbox["dedupe_key"].implode())
    stopped = pl.col("reason").is_in(list(STOP_REASONS)).fill_null(False)
    ladder_step = pl.col("ladder") != STATEMENT_LADDER
    stale = frame.filter(
        (unsent & ((ladder_step & (replaced | stopped)) | nothing_owed))
        | ((pl.col("status") == OutboxStatus.TASK_OPEN) & nothing_owed)
    )
    on = day.isoformat()
    # rechunked first: polars 2.1 panicked formatting this filtered join's chunks in an outage backfill
    return stale.rechunk().select(
        "outbox_id",
        pl.lit(OutboxStatus.CANCELLED.value).alias("status"),
        pl.when(~pl.col("_decided"))
        .then(pl.lit(f"replanned on {on}: nothing is open any more"))
        .otherwise(pl.concat_str(pl.lit(f"replanned on {on}: "), pl.col("reason").fill_null("another reminder")))
        .str.slice(0, 200)
        .alias("status_reason"),
    )


def write_plan(
    connection: Connection, plan: Plan, day: date, *, policy_version: str, shard: Shard = ALL_CUSTOMERS
) -> OutboxWrite:
    """The day's reminders into the outbox, at most once per dedupe key; unsent rows no longer wanted cancelled
    (of ``shard``'s customers: the plan decided only them)."""
    rows = plan.outbox.with_columns(
        json_array(pl.col("invoice_ids")).alias("invoice_ids"),
        pl.lit(policy_version).alias("policy_version"),
        pl.col("step_index", "offset_days").cast(pl.Int64),
    )
    existing = fetch_by_keys(connection, outbox, "dedupe_key", rows["dedupe_key"], ["dedupe_key", "status"])
    revived = existing.filter(pl.col("status").is_in(REVIVABLE)).height
    if rows.height:
        upsert_outbox(connection, rows)
    stale = _stale_rows(connection, plan, day, shard)
    cancelled = update_from(
        connection, outbox, stale, key="outbox_id", only_if=("status", (*NOT_HANDED_OVER, OutboxStatus.TASK_OPEN))
    )
    return OutboxWrite(
        inserted=rows.height - existing.height,
        revived=revived,
        unchanged=existing.height - revived,
        cancelled=cancelled,
    )


def set_statuses(connection: Connection, changes: pl.DataFrame, *, allowed_from: Sequence[str] = RENDERABLE) -> int:
    """``outbox_id, status, status_reason``: moved on only where the row is still in ``allowed_from``."""
    return update_from(connection, outbox, changes, key="outbox_id", only_if=("status", allowed_from))


def outbox_by_status(connection: Connection) -> dict[str, int]:
    rows = connection.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status)).all()
    return {str(status): int(count) for status, count in rows}


DECISION_SUMMARY_SCHEMA = schema_of(
    reminder_decisions, ["customer_id", "decision", "reason", "ladder", "step", "channel", "detail"]
)


def latest_decisions(connection: Connection, day: date) -> pl.DataFrame:
    """The day's decisions as its latest planning run made them."""
    d = reminder_decisions
    latest = (
        select(d.c.run_id).where(d.c.business_date == day).order_by(d.c.decision_id.desc()).limit(1).scalar_subquery()
    )
    query = select(*[d.c[c] for c in DECISION_SUMMARY_SCHEMA]).where(d.c.business_date == day, d.c.run_id == latest)
    return fetch(connection, query, DECISION_SUMMARY_SCHEMA)
