"""What ``delivery_status`` shows: where every message ended, delivery rates, failures by code, opens and
clicks — counts only, never an address, a number or a customer's words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg
import polars as pl
from sqlalchemy import Connection

from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.defs.common.metadata import table
from reminder_pipeline.defs.common.plots import bar_chart
from reminder_pipeline.ledger import listening as queries
from reminder_pipeline.listening.delivery_events import Applied

S = OutboxStatus
HANDED_OVER = [S.SENT, S.DELIVERED, S.FAILED, S.UNKNOWN, S.UNRESOLVED]
ENGAGEMENT = ["open", "click", "spamreport", "unsubscribe", "group_unsubscribe"]


@dataclass(frozen=True)
class StatusSummary:
    statuses: pl.DataFrame
    failures: pl.DataFrame
    events: pl.DataFrame
    unmatched_events: int
    open_tasks: dict[str, int]


def read_summary(connection: Connection) -> StatusSummary:
    return StatusSummary(
        statuses=queries.message_statuses(connection),
        failures=queries.failures_by_code(connection),
        events=queries.event_counts(connection),
        unmatched_events=queries.unmatched_events(connection),
        open_tasks=queries.open_tasks(connection),
    )


def delivery_rates(statuses: pl.DataFrame) -> pl.DataFrame:
    """Per channel and provider: messages handed over, delivered, failed, still waiting, and the rate of
    delivered among those with a final status (null while none has one)."""
    handed = statuses.filter(pl.col("status").is_in(HANDED_OVER))
    counts = handed.group_by("channel", "provider").agg(
        pl.col("messages").sum().alias("handed_over"),
        pl.col("messages").filter(pl.col("status") == S.DELIVERED).sum().alias("delivered"),
        pl.col("messages").filter(pl.col("status") == S.FAILED).sum().alias("failed"),
    )
    final = pl.col("delivered") + pl.col("failed")
    return counts.with_columns(
        (pl.col("handed_over") - final).alias("awaiting"),
        pl.when(final > 0).then((pl.col("delivered") / final).round(4)).alias("delivery_rate"),
    ).sort("channel", "provider")


def status_chart(statuses: pl.DataFrame) -> dg.MarkdownMetadataValue:
    """Messages handed to a provider, by where they stand now (every channel together)."""
    handed = statuses.filter(pl.col("status").is_in(HANDED_OVER)).group_by("status").agg(pl.col("messages").sum())
    counts = dict(handed.iter_rows())
    shown = [status.value for status in HANDED_OVER]
    return bar_chart(shown, [counts.get(s, 0) for s in shown], title="Deliveries by status", unit="messages")


def engagement(events: pl.DataFrame) -> pl.DataFrame:
    """Opens, clicks, spam reports and unsubscribes: events, and the distinct messages they were about."""
    return events.filter(pl.col("event").is_in(ENGAGEMENT)).sort("provider", "event")


def status_metadata(
    summary: StatusSummary,
    inbox: Mapping[str, int],
    settled: Applied,
    fallbacks_rendered: int,
    lookups: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    rates = delivery_rates(summary.statuses)
    metadata: dict[str, Any] = {
        "final_status": table(summary.statuses.filter(pl.col("status").is_in(HANDED_OVER))),
        "by_status_chart": status_chart(summary.statuses),
        "delivery_rate": table(rates),
        "failed_by_code": table(summary.failures),
        "opens_and_clicks": table(engagement(summary.events)),
        "provider_events": table(summary.events),
        "inbox_processed_now": dg.MetadataValue.json(dict(inbox)),
        "settled_now": dg.MetadataValue.json({"moved": dict(settled.moved), "linked_late": settled.new}),
        "fallbacks_rendered": fallbacks_rendered,
        "unmatched_events": summary.unmatched_events,
        "open_tasks": dg.MetadataValue.json(summary.open_tasks),
        "delivered": int(rates["delivered"].sum()),
        "failed": int(rates["failed"].sum()),
        "awaiting_final_status": int(rates["awaiting"].sum()),
    }
    if lookups is not None:
        metadata["lookups"] = dg.MetadataValue.json(dict(lookups))
    return metadata
