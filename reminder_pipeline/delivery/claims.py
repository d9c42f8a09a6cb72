"""Claiming a batch: due rows locked, the last look taken and ``sending`` recorded, in one transaction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from reminder_pipeline.core.delivery.last_look import last_look
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


def claim_batch(
    ledger: Ledger, provider: Provider, now: datetime, worker: str, options: DeliveryOptions, lease_until: datetime
) -> Claim:
    with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
        due = queries.due_rows(connection, provider.channel, now, options.batch_size)
        if due.is_empty():
            return Claim(due)
        locked = queries.lock_customers(connection, due["customer_id"])
        due = due.filter(pl.col("customer_id").is_in(locked.implode()))
        people = contacts(connection, due["customer_id"])
        contacted = queries.contacted_on(connection, due["customer_id"], due["send_on"])
        decided = last_look(
            due.select(
                "outbox_id",
                "customer_id",
                "channel",
                "send_on",
                "business_date",
                "window_end",
                "invoice_ids",
                "recipient",
                "amount_minor",
            ),
            contacts=people,
            lines=invoice_lines(connection, due["invoice_ids"].explode()),
            disputed=open_disputes(connection, now.date()),
            promises=promises(connection).join(people.select("customer_id"), on="customer_id", how="semi"),
            contacted=contacted.join(due.select("outbox_id"), on="outbox_id", how="anti"),
            now=now,
            today=now.date(),
            promise_grace_days=options.promise_grace_days,
        )
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
    return Claim(going, Counter(stopped["status_reason"].to_list()))
