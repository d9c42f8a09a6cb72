"""Unknown outcomes settled by asking the provider, never by sending again (promise 1).

A row is ``unknown`` when its send timed out or its connection dropped, or when the worker that held
it stopped before it recorded the answer (its lease ran out). The provider's message lookup decides:
it has the message — ``sent``; it certainly has none — ``retry`` (safe to send); it cannot tell yet —
asked again later, and once the row's window has closed it becomes ``unresolved``: an operator's
task, never a resend.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import polars as pl

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.core.outbox import OUTBOX_LOCK, OutboxStatus
from reminder_pipeline.delivery.outcomes import CHANGE_COLUMNS
from reminder_pipeline.ledger import delivery as queries
from reminder_pipeline.ledger.outbox import expire_unsent
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.providers.base import LookupResult, OutgoingMessage, Provider

S = OutboxStatus
ASK_AGAIN_AFTER = timedelta(minutes=2)
LOOKUP_MARGIN = timedelta(minutes=5)
"""Looked for from this long before the send started (clocks differ)."""


def _lookup(provider: Provider, row: dict[str, object]) -> LookupResult:
    message = OutgoingMessage(
        reminder_key=str(row["dedupe_key"]),
        channel=Channel(str(row["channel"])),
        to=str(row["recipient"]),
        body_text=str(row["body_text"]),
        subject=row["subject"] if isinstance(row["subject"], str) else None,
    )
    started = row["sending_at"]
    since = (started if isinstance(started, datetime) else datetime.now().astimezone()) - LOOKUP_MARGIN
    return provider.lookup(message, since)


def _settle(row: dict[str, object], found: LookupResult, now: datetime) -> dict[str, object]:
    change: dict[str, object] = {"outbox_id": row["outbox_id"]}
    if found.found:
        return change | {
            "status": S.SENT.value,
            "provider_id": found.provider_id,
            "sent_at": row["sending_at"],
            "provider_status": found.provider_status,
            "last_error": None,
        }
    if found.found is False:
        return change | {
            "status": S.RETRY.value,
            "next_attempt_at": now,
            "last_error": "the provider never received it (reconciled)",
        }
    window_end = row["window_end"]
    if isinstance(window_end, datetime) and window_end <= now:
        return change | {
            "status": S.UNRESOLVED.value,
            "last_error": "outcome still unknown when its window closed: an operator decides"[:200],
        }
    return change | {
        "status": S.UNKNOWN.value,
        "next_attempt_at": now + ASK_AGAIN_AFTER,
        "last_error": f"the provider cannot tell yet: {found.detail}"[:200],
    }


def reconcile(ledger: Ledger, provider: Provider, now: datetime, *, batch_size: int) -> Counter[str]:
    """Settle ``provider``'s unknown outcomes due now; returns how many ended in each status."""
    settled: Counter[str] = Counter()
    with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
        settled["expired"] = expire_unsent(connection, now)
        delay = timedelta(seconds=provider.limits.lookup_delay_seconds)
        settled["lease_expired"] = queries.expire_leases(connection, provider.channel, now, delay)
    while True:
        with ledger.begin() as connection:
            rows = queries.unknown_rows(connection, provider.channel, now, batch_size).to_dicts()
        if not rows:
            return +settled
        with ThreadPoolExecutor(max_workers=max(1, provider.limits.concurrency // 2)) as pool:
            answers = list(pool.map(lambda row: _lookup(provider, row), rows))
        changes = pl.DataFrame([_settle(r, a, now) for r, a in zip(rows, answers, strict=True)], schema=CHANGE_COLUMNS)
        changes = changes.drop("lease_until").with_columns(pl.Series("attempts", [r["attempts"] for r in rows]))
        with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
            # a verdict holds only for the attempt it was asked about: another run may have tried again since
            queries.move(connection, changes, allowed_from=[S.UNKNOWN], unchanged=("attempts",))
        settled.update(changes["status"].to_list())
