"""The reminders domain in the ledger: what planning reads, the outbox and audit it writes, and the
rows rendering reads and writes back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import polars as pl
from sqlalchemy import Connection, and_, bindparam, func, or_, select, text, update

from reminder_pipeline.core.changes import Merge
from reminder_pipeline.core.outbox import (
    COLLECTOR_CHANNEL,
    NOT_CONTACTS,
    NOT_HANDED_OVER,
    RENDERABLE,
    REVIVABLE,
    OutboxStatus,
)
from reminder_pipeline.core.planning.plan import (
    CREDIT_SCHEMA,
    OUTBOX_SCHEMA,
    PROMISE_SCHEMA,
    Plan,
    PlanInputs,
)
from reminder_pipeline.core.planning.reasons import STOP_REASONS, SkipReason
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.bulk import (
    fetch,
    fetch_by_keys,
    insert,
    json_array,
    schema_of,
    stage,
    update_from,
    upsert,
)
from reminder_pipeline.ledger.queries import customer_credits, paid_per_invoice
from reminder_pipeline.ledger.reminders_schema import outbox, reminder_decisions, reminder_messages
from reminder_pipeline.ledger.risk_schema import customer_segments

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
    ],
)
INVOICE_LINE_SCHEMA = {
    **schema_of(schema.invoices, ["invoice_id", "customer_id", "issue_date", "due_date", "amount_minor", "currency"]),
    "balance_minor": pl.Int64(),
}


def _utc(moment: datetime) -> datetime:
    """An aware UTC instant: PostgreSQL compares it whatever the session's time zone, and SQLite's
    parameter text is the UTC wall time its timestamps are stored in."""
    return moment.astimezone(UTC)


def invoices_for_planning(connection: Connection, day: date) -> pl.DataFrame:
    """Invoices open when ``day`` began (issued by then, not paid before it), with the balance the ledger
    shows now: one paid since is still decided on, as paid, and its unsent reminders cancelled."""
    inv = schema.invoices
    paid_then = paid_per_invoice(day - timedelta(days=1)).alias("paid_then")
    paid_now = paid_per_invoice().alias("paid_now")
    balance_now = inv.c.amount_minor - func.coalesce(paid_now.c.paid, 0)
    query = (
        select(
            inv.c.invoice_id,
            inv.c.customer_id,
            inv.c.issue_date,
            inv.c.due_date,
            inv.c.currency,
            balance_now.label("balance_minor"),
        )
        .select_from(
            inv.outerjoin(paid_then, paid_then.c.invoice_id == inv.c.invoice_id).outerjoin(
                paid_now, paid_now.c.invoice_id == inv.c.invoice_id
            )
        )
        .where(inv.c.issue_date <= day, inv.c.amount_minor - func.coalesce(paid_then.c.paid, 0) > 0)
    )
    columns = {c: t for c, t in INVOICE_LINE_SCHEMA.items() if c != "amount_minor"}
    return fetch(connection, query, columns).with_columns(pl.col("balance_minor").clip(lower_bound=0))


def open_disputes(connection: Connection, day: date) -> pl.DataFrame:
    """Invoices with a dispute not resolved by ``day`` (one opened since counts too: never chase it)."""
    d = schema.disputes
    query = select(d.c.invoice_id).where(or_(d.c.resolved_on.is_(None), d.c.resolved_on > day)).distinct()
    return fetch(connection, query, {"invoice_id": pl.String()})


def promises(connection: Connection) -> pl.DataFrame:
    p = schema.promises_to_pay
    return fetch(connection, select(*[p.c[c] for c in PROMISE_SCHEMA]), PROMISE_SCHEMA)


def contacts(connection: Connection, customer_ids: pl.Series | None = None) -> pl.DataFrame:
    """Contact details, consent and opt-outs as the ledger holds them now (of ``customer_ids``, or everyone)."""
    if customer_ids is not None:
        return fetch_by_keys(connection, schema.customers, "customer_id", customer_ids, list(CONTACT_SCHEMA))
    c = schema.customers
    return fetch(connection, select(*[c.c[name] for name in CONTACT_SCHEMA]), CONTACT_SCHEMA)


def segments_of(connection: Connection, day: date) -> pl.DataFrame:
    s = customer_segments
    columns = schema_of(s, ["customer_id", "risk_band", "aging_bucket", "value_tier", "channel"])
    return fetch(connection, select(*[s.c[c] for c in columns]).where(s.c.business_date == day), columns)


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
        ~and_(unsent, outbox.c.business_date == day),
    )
    columns = [outbox.c[c] for c in OUTBOX_SCHEMA]
    recent = select(*columns).where(
        counts, outbox.c.send_on.between(day - timedelta(days=horizon_days), day + timedelta(days=horizon_days))
    )
    frames = [fetch(connection, recent, OUTBOX_SCHEMA)]
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
        frames.append(fetch(connection, reached, OUTBOX_SCHEMA))
        staged.drop(connection)
    return pl.concat(frames).unique("dedupe_key", keep="first").sort("dedupe_key")


def plan_inputs(connection: Connection, day: date, now: datetime, *, business_tz: str, horizon_days: int) -> PlanInputs:
    """Everything a day's decisions need from the ledger."""
    invoices = invoices_for_planning(connection, day)
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
        credits=customer_credits(connection).select(list(CREDIT_SCHEMA)),
    )


def record_decisions(connection: Connection, decisions: pl.DataFrame, *, run_id: str, policy_version: str) -> int:
    """Append the day's decisions to the audit table: every run's decisions stay, whatever happens later."""
    rows = decisions.select([c for c in decisions.columns if c in reminder_decisions.c]).with_columns(
        json_array(pl.col("invoice_ids")).alias("invoice_ids"),
        json_array(pl.col("superseded_steps")).alias("superseded_steps"),
        pl.lit(run_id).alias("run_id"),
        pl.lit(policy_version).alias("policy_version"),
        pl.col("days_past_due", "step_index", "offset_days").cast(pl.Int64),
    )
    return insert(connection, reminder_decisions, rows)


@dataclass(frozen=True)
class OutboxWrite:
    inserted: int
    revived: int
    unchanged: int
    cancelled: int


def _upsert_plan(connection: Connection, rows: pl.DataFrame) -> None:
    """Insert new reminders; revive a cancelled or expired one planned again; leave every other row alone."""
    staged = stage(connection, rows, outbox)
    columns = ", ".join(f'"{c}"' for c in rows.columns)
    keep = {"dedupe_key", "customer_id", "episode_id", "ladder", "step", "channel"}
    assignments = ", ".join(f'"{c}" = excluded."{c}"' for c in rows.columns if c not in keep)
    statement = text(
        f'INSERT INTO "outbox" ({columns}) SELECT {columns} FROM "{staged.name}" WHERE true '
        f'ON CONFLICT ("dedupe_key") DO UPDATE SET {assignments}, "status_reason" = NULL, '
        f'"updated_at" = CURRENT_TIMESTAMP WHERE "outbox"."status" IN :revivable'
    ).bindparams(bindparam("revivable", expanding=True))
    connection.execute(statement, {"revivable": list(REVIVABLE)})
    staged.drop(connection)


def _stale_rows(connection: Connection, plan: Plan, day: date) -> pl.DataFrame:
    """``outbox_id, status, status_reason`` of rows the new decisions no longer want.

    Unsent rows: the day's own that were not planned again, and any of a customer told to stop or
    with nothing open any more. Open collector tasks of a customer who has paid everything.
    """
    columns = schema_of(outbox, ["outbox_id", "customer_id", "dedupe_key", "business_date", "status"])
    query = select(*[outbox.c[c] for c in columns]).where(
        outbox.c.status.in_([*NOT_HANDED_OVER, OutboxStatus.TASK_OPEN]), outbox.c.business_date <= day
    )
    candidates = fetch(connection, query, columns)
    decided = plan.decisions.select("customer_id", "reason")
    frame = candidates.join(decided, on="customer_id", how="left").with_columns(
        pl.col("customer_id").is_in(decided["customer_id"].implode()).alias("_decided")
    )
    unsent = pl.col("status").is_in(NOT_HANDED_OVER)
    nothing_owed = ~pl.col("_decided") | (pl.col("reason") == SkipReason.PAID.value)
    replaced = (pl.col("business_date") == day) & ~pl.col("dedupe_key").is_in(plan.outbox["dedupe_key"].implode())
    stopped = pl.col("reason").is_in(list(STOP_REASONS)).fill_null(False)
    stale = frame.filter(
        (unsent & (replaced | stopped | nothing_owed)) | ((pl.col("status") == OutboxStatus.TASK_OPEN) & nothing_owed)
    )
    on = day.isoformat()
    return stale.select(
        "outbox_id",
        pl.lit(OutboxStatus.CANCELLED.value).alias("status"),
        pl.when(~pl.col("_decided"))
        .then(pl.lit(f"replanned on {on}: nothing is open any more"))
        .otherwise(pl.format("replanned on {}: {}", pl.lit(on), pl.col("reason").fill_null("another reminder")))
        .str.slice(0, 200)
        .alias("status_reason"),
    )


def write_plan(connection: Connection, plan: Plan, day: date, *, policy_version: str) -> OutboxWrite:
    """The day's reminders into the outbox, at most once per dedupe key; unsent rows no longer wanted cancelled."""
    rows = plan.outbox.with_columns(
        json_array(pl.col("invoice_ids")).alias("invoice_ids"),
        pl.lit(policy_version).alias("policy_version"),
        pl.col("step_index", "offset_days").cast(pl.Int64),
    )
    existing = fetch_by_keys(connection, outbox, "dedupe_key", rows["dedupe_key"], ["dedupe_key", "status"])
    revived = existing.filter(pl.col("status").is_in(REVIVABLE)).height
    if rows.height:
        _upsert_plan(connection, rows)
    stale = _stale_rows(connection, plan, day)
    cancelled = update_from(
        connection, outbox, stale, key="outbox_id", only_if=("status", (*NOT_HANDED_OVER, OutboxStatus.TASK_OPEN))
    )
    return OutboxWrite(
        inserted=rows.height - existing.height,
        revived=revived,
        unchanged=existing.height - revived,
        cancelled=cancelled,
    )


RENDER_SCHEMA = schema_of(
    outbox,
    [
        "outbox_id",
        "customer_id",
        "episode_id",
        "ladder",
        "step",
        "tone",
        "channel",
        "business_date",
        "send_on",
        "window_start",
        "window_end",
        "status",
        "invoice_ids",
        "amount_minor",
        "currency",
    ],
)


def messages_to_render(connection: Connection, day: date) -> pl.DataFrame:
    """The day's unsent message rows (planned, rendered or held), with their invoice ids as a list."""
    query = select(*[outbox.c[c] for c in RENDER_SCHEMA]).where(
        outbox.c.business_date == day, outbox.c.status.in_(RENDERABLE), outbox.c.channel != COLLECTOR_CHANNEL
    )
    return fetch(connection, query, RENDER_SCHEMA).with_columns(
        pl.col("invoice_ids").str.json_decode(pl.List(pl.String))
    )


def invoice_lines(connection: Connection, invoice_ids: pl.Series) -> pl.DataFrame:
    """``INVOICE_LINE_SCHEMA`` of these invoices, with the balance the ledger shows now."""
    found = fetch_by_keys(
        connection,
        schema.invoices,
        "invoice_id",
        invoice_ids,
        ["invoice_id", "customer_id", "issue_date", "due_date", "amount_minor", "currency"],
    )
    if found.is_empty():
        return pl.DataFrame(schema=INVOICE_LINE_SCHEMA)
    paid = paid_per_invoice()
    staged = stage(connection, found.select("invoice_id"), schema.invoices)
    received = fetch(
        connection,
        select(paid.c.invoice_id, paid.c.paid).join(staged, staged.c.invoice_id == paid.c.invoice_id),
        {"invoice_id": pl.String(), "paid": pl.Int64()},
    )
    staged.drop(connection)
    return (
        found.join(received, on="invoice_id", how="left")
        .with_columns((pl.col("amount_minor") - pl.col("paid").fill_null(0)).clip(lower_bound=0).alias("balance_minor"))
        .select(list(INVOICE_LINE_SCHEMA))
    )


MESSAGE_COLUMNS = [c.name for c in reminder_messages.columns if c.name != "rendered_at"]


def write_messages(connection: Connection, messages: pl.DataFrame) -> int:
    """Store rendered messages, replacing an earlier rendering of the same outbox row."""
    rows = messages.select(MESSAGE_COLUMNS).with_columns(json_array(pl.col("invoice_ids")).alias("invoice_ids"))
    replace = {c: Merge.REPLACE for c in MESSAGE_COLUMNS if c != "outbox_id"}
    return upsert(connection, reminder_messages, rows, key=["outbox_id"], merge=replace)


def set_statuses(connection: Connection, changes: pl.DataFrame, *, allowed_from: Sequence[str] = RENDERABLE) -> int:
    """``outbox_id, status, status_reason``: moved on only where the row is still in ``allowed_from``."""
    return update_from(connection, outbox, changes, key="outbox_id", only_if=("status", allowed_from))


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


def outbox_by_status(connection: Connection) -> dict[str, int]:
    rows = connection.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status)).all()
    return {str(status): int(count) for status, count in rows}


def messages_of_day(connection: Connection, day: date) -> pl.DataFrame:
    """The day's rendered messages with their outbox state (for reports and the dashboard)."""
    m = reminder_messages
    own = ["outbox_id", "channel", "template", "recipient", "subject", "body_text", "sms_segments", "problems"]
    columns = {**schema_of(m, own), **schema_of(outbox, ["customer_id", "status"])}
    query = (
        select(*[m.c[c] if c in own else outbox.c[c] for c in columns])
        .join(outbox, outbox.c.outbox_id == m.c.outbox_id)
        .where(outbox.c.business_date == day)
    )
    return fetch(connection, query, columns).sort("outbox_id")
