"""Claiming a batch: due rows locked, the last look taken and ``sending`` recorded, in one transaction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import Connection

from reminder_pipeline.core.delivery.last_look import CANDIDATE_SCHEMA, last_look
from reminder_pipeline.core.outbox import OUTBOX_LOCK, OutboxStatus
from reminder_pipeline.ledger import delivery as queries
from reminder_pipeline.ledger.bulk import schema_of
from reminder_pipeline.ledger.planning import contacts, open_disputes, promises
from reminder_pipeline.ledger.receivables import invoice_lines
from reminder_pipeline.ledger.schema import outbox
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.providers.base import Provider

if TYPE_CHECKING:
    from reminder_pipeline.delivery.service import DeliveryOptions

SENDING_COLUMNS = schema_of(
    outbox,
    ["outbox_id", "status", "claimed_by", "lease_until", "sending_at", "attempts", "provider", "next_attempt_at"],
)


@dataclass(frozen=True)
class Claim:
    sending: pl.DataFrame
    """``CLAIM_SCHEMA`` of the rows now ``sending`` for this worker (``attempts`` counting this one)."""
    cancelled: Counter[str] = field(default_factory=Counter)
    """Rows the last look stopped, per reason."""
    lease_until: datetime | None = None


def look(
    connection: Connection, rows: pl.DataFrame, now: datetime, grace_days: int, *, besides: pl.Series
) -> pl.DataFrame:
    """The last look at ``rows`` (``CLAIM_SCHEMA``): ``outbox_id, status, status_reason`` each. Messages to
    the same customers already handed over count against the day's cap, except the rows in ``besides``."""
    people = contacts(connection, rows["customer_id"])
    contacted = queries.contacted_on(connection, rows["customer_id"], rows["send_on"])
    invoice_ids = rows["invoice_ids"].explode()
    return last_look(
        rows.select(list(CANDIDATE_SCHEMA)),
        contacts=people,
        lines=invoice_lines(connection, invoice_ids),
        disputed=open_disputes(connection, now.date(), invoice_ids),
        promises=promises(connection, people["customer_id"]),
        contacted=contacted.filter(~pl.col("outbox_id").is_in(besides.implode())),
        now=now,
        today=now.date(),
        promise_grace_days=grace_days,
    )


def claim_batch(
    ledger: Ledger, provider: Provider, now: datetime, worker: str, options: DeliveryOptions, lease_until: datetime
) -> Claim:
    with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
        due = queries.due_rows(connection, provider.channel, now, options.batch_size)
        if due.is_empty():
            return Claim(due)
        locked = queries.lock_customers(connection, due["customer_id"])
        due = due.filter(pl.col("customer_id").is_in(locked.implode()))
        decided = look(connection, due, now, options.promise_grace_days, besides=due["outbox_id"])
        going = due.join(decided.filter(pl.col("status") == OutboxStatus.SENDING), on="outbox_id", how="semi")
        going = going.with_columns(pl.col("attempts") + 1, pl.lit(now).dt.convert_time_zone("UTC").alias("sending_at"))
        changes = (
            going.select("outbox_id", "attempts", "sending_at")
            .with_columns(
                pl.lit(OutboxStatus.SENDING.value).alias("status"),
                pl.lit(worker).alias("claimed_by"),
                pl.lit(lease_until).dt.convert_time_zone("UTC").alias("lease_until"),
                pl.lit(provider.name).alias("provider"),
                pl.lit(None).alias("next_attempt_at"),
            )
            .cast(dict(SENDING_COLUMNS))  # type: ignore[arg-type]
            .select(list(SENDING_COLUMNS))
        )
        queries.move(connection, changes, allowed_from=queries.CLAIMABLE)
        stopped = decided.filter(pl.col("status") != OutboxStatus.SENDING)
        queries.move(connection, stopped, allowed_from=queries.CLAIMABLE)
    return Claim(going, Counter(stopped["status_reason"].to_list()), lease_until)


def look_again(
    ledger: Ledger, rows: pl.DataFrame, now: datetime, worker: str, grace_days: int, *, besides: pl.Series
) -> pl.DataFrame:
    """The last look once more at claimed rows not handed over yet (a payment may have landed since the
    claim): those that may no longer go are moved on (cancelled or expired); ``outbox_id, status_reason``
    of them is returned."""
    with ledger.begin() as connection:  # a read: the sends in flight keep recording meanwhile
        decided = look(connection, rows, now, grace_days, besides=besides)
    stopped = decided.filter(pl.col("status") != OutboxStatus.SENDING)
    if stopped.height:
        with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
            queries.move(connection, stopped, allowed_from=[OutboxStatus.SENDING], worker=worker)
    return stopped.select("outbox_id", "status_reason")
