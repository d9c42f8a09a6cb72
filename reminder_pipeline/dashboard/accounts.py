"""One row per customer who owes something: what they owe, how late, how risky, what comes next, what
happened last, and which worklist queue they belong in (pure polars: no I/O)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

import polars as pl

from reminder_pipeline.core.history import PromiseStatus
from reminder_pipeline.dashboard.figures import balances_at
from reminder_pipeline.dashboard.loading import Sources

AT_RISK_UNANSWERED = 3
"""Reminders in a row without a reply or a payment that put a customer at risk."""


class Queue(StrEnum):
    READY = "ready"
    """Overdue, nothing holding it: chase."""
    WAITING = "waiting"
    """On hold: a promise to pay pending, a dispute open, or reminders paused."""
    AT_RISK = "at_risk"
    """A broken promise, or reminders again and again without an answer."""
    CURRENT = "current"
    """Owes, but nothing is due yet."""


QUEUE_LABELS = {
    Queue.READY: "ready to chase",
    Queue.WAITING: "waiting on a promise or dispute",
    Queue.AT_RISK: "at risk",
    Queue.CURRENT: "not yet due",
}

ACCOUNT_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "name": pl.String(),
    "segment": pl.String(),
    "risk_band": pl.String(),
    "p_late": pl.Float64(),
    "predicted_payment_date": pl.Date(),
    "channel": pl.String(),
    "currency": pl.String(),
    "currencies": pl.UInt32(),
    "owed_minor": pl.Int64(),
    "overdue_minor": pl.Int64(),
    "open_invoices": pl.UInt32(),
    "oldest_due": pl.Date(),
    "days_past_due": pl.Int64(),
    "next_step": pl.String(),
    "next_date": pl.Date(),
    "last_contact_at": pl.Datetime("us", "UTC"),
    "last_contact_channel": pl.String(),
    "last_contact_status": pl.String(),
    "promise": pl.String(),
    "promised_date": pl.Date(),
    "disputed": pl.Boolean(),
    "paused_until": pl.Date(),
    "unanswered": pl.UInt32(),
    "expected_loss_minor": pl.Int64(),
    "queue": pl.String(),
}


def _owed(sources: Sources) -> pl.DataFrame:
    d = sources.day
    per_currency = (
        balances_at(sources.invoices, sources.payments, d)
        .filter(pl.col("balance_minor") > 0)
        .group_by("customer_id", "currency")
        .agg(
            pl.col("balance_minor").sum().alias("owed_minor"),
            pl.col("balance_minor").filter(pl.col("due_date") < d).sum().alias("overdue_minor"),
            pl.len().alias("open_invoices"),
            pl.col("due_date").min().alias("oldest_due"),
        )
    )
    return (
        per_currency.sort("owed_minor", "currency", descending=[True, False])
        .group_by("customer_id", maintain_order=True)
        .agg(pl.all().first(), pl.len().alias("currencies"), pl.col("open_invoices").sum().alias("_all_open"))
        .with_columns(
            pl.col("_all_open").alias("open_invoices"),
            (pl.lit(d) - pl.col("oldest_due")).dt.total_days().alias("days_past_due"),
        )
        .drop("_all_open")
    )


def _last_contact(sources: Sources) -> pl.DataFrame:
    handed = sources.messages.filter(pl.col("sent_at").is_not_null())
    last = (
        handed.sort("sent_at")
        .group_by("customer_id")
        .last()
        .select(
            "customer_id",
            pl.col("sent_at").alias("last_contact_at"),
            pl.col("channel").alias("last_contact_channel"),
            pl.col("status").alias("last_contact_status"),
        )
    )
    answers = pl.concat(
        [
            sources.replies.select("customer_id", pl.col("received_at").alias("at")),
            sources.payments.select("customer_id", pl.col("paid_date").cast(pl.Datetime("us", "UTC")).alias("at")),
        ]
    )
    last_answer = answers.group_by("customer_id").agg(pl.col("at").max().alias("_answered"))
    unanswered = (
        handed.join(last_answer, on="customer_id", how="left")
        .filter(pl.col("_answered").is_null() | (pl.col("sent_at") > pl.col("_answered")))
        .group_by("customer_id")
        .agg(pl.len().alias("unanswered"))
    )
    return last.join(unanswered, on="customer_id", how="left")


def _next_step(sources: Sources) -> pl.DataFrame:
    return (
        sources.planned.sort("send_on")
        .group_by("customer_id")
        .first()
        .select("customer_id", pl.col("step").alias("next_step"), pl.col("send_on").alias("next_date"))
    )


def _promises(sources: Sources, grace_days: int) -> pl.DataFrame:
    lapsed = pl.col("promised_date") + timedelta(days=grace_days) < pl.lit(sources.day)
    return (
        sources.promises.sort("made_on")
        .group_by("customer_id")
        .last()
        .select(
            "customer_id",
            "promised_date",
            pl.when(lapsed | (pl.col("status") == PromiseStatus.BROKEN.value))
            .then(pl.lit(PromiseStatus.BROKEN.value))
            .otherwise(pl.lit(PromiseStatus.PENDING.value))
            .alias("promise"),
        )
    )


def _queue() -> pl.Expr:
    waiting = (
        (pl.col("promise") == PromiseStatus.PENDING.value).fill_null(False)
        | pl.col("disputed")
        | pl.col("paused_until").is_not_null()
    )
    broken = (pl.col("promise") == PromiseStatus.BROKEN.value).fill_null(False)
    at_risk = broken | (pl.col("unanswered") >= AT_RISK_UNANSWERED)
    return (
        pl.when(waiting)
        .then(pl.lit(Queue.WAITING.value))
        .when(at_risk)
        .then(pl.lit(Queue.AT_RISK.value))
        .when(pl.col("overdue_minor") > 0)
        .then(pl.lit(Queue.READY.value))
        .otherwise(pl.lit(Queue.CURRENT.value))
    )


def accounts(sources: Sources, *, promise_grace_days: int = 3) -> pl.DataFrame:
    """``ACCOUNT_SCHEMA``: every customer with something owed on ``sources.day``."""
    disputed = sources.disputes.select("customer_id").unique().with_columns(pl.lit(True).alias("disputed"))
    segments = sources.segments.rename({"channel": "segment_channel"})
    frame = (
        _owed(sources)
        .join(sources.customers, on="customer_id", how="left")
        .join(sources.scores, on="customer_id", how="left")
        .join(segments, on="customer_id", how="left")
        .join(_last_contact(sources), on="customer_id", how="left")
        .join(_next_step(sources), on="customer_id", how="left")
        .join(_promises(sources, promise_grace_days), on="customer_id", how="left")
        .join(disputed, on="customer_id", how="left")
        .join(sources.pauses, on="customer_id", how="left")
        .with_columns(
            pl.col("disputed").fill_null(False),
            pl.col("unanswered").fill_null(0).cast(pl.UInt32),
            pl.coalesce("segment_channel", "preferred_channel").alias("channel"),
            (pl.col("owed_minor") * pl.col("p_late").fill_null(0.0))
            .round(0)
            .cast(pl.Int64)
            .alias("expected_loss_minor"),
        )
        .with_columns(_queue().alias("queue"))
    )
    return frame.select([pl.col(c).cast(t) for c, t in ACCOUNT_SCHEMA.items()])
