"""After a provider refused a reminder for good: the step's next channel, or a collector.

A refused address or an opt-out at the provider leaves the step unsent. The step's other channels
(in the policy's order) that still reach the customer and have no row of their own for the step get
one — the same reminder on another channel, rendered at once, sent when its window is open and the
last look's one-a-day cap allows. When none does, a collector gets the task (once per step).

:func:`plan_follow_ups` makes those rows in the caller's transaction (a provider's event handled with only
a connection); :class:`FollowUp` also renders them at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import Connection, select

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.core.channels import CHANNELS, reachable
from reminder_pipeline.core.outbox import COLLECTOR_CHANNEL, OUTBOX_LOCK, STATEMENT_LADDER, OutboxStatus, reminder_key
from reminder_pipeline.core.policy.config import Policy
from reminder_pipeline.ledger.bulk import fetch, fetch_by_keys, schema_of
from reminder_pipeline.ledger.planning import contacts
from reminder_pipeline.ledger.schema import outbox
from reminder_pipeline.ledger.store import Ledger

PLAN_COLUMNS = [
    c.name
    for c in outbox.columns
    if c.name not in ("outbox_id", "created_at", "updated_at")
    and c.name not in ("attempts", "next_attempt_at", "claimed_by", "lease_until", "sending_at")
    and c.name not in ("provider", "provider_id", "provider_status", "sent_at", "last_error")
]


@dataclass(frozen=True)
class FollowUps:
    fallbacks: int = 0
    collector_tasks: int = 0


def _channels(policy: Policy, ladder: str, step: str) -> list[str]:
    found = policy.ladders.get(ladder)
    for candidate in found.steps if found else []:
        if candidate.name == step:
            return [c.value for c in candidate.channels]
    return []


def plan_follow_ups(connection: Connection, policy: Policy, outbox_ids: pl.Series) -> list[dict[str, object]]:
    """In the caller's transaction (under ``OUTBOX_LOCK``): the rows that follow these ``failed`` rows, inserted
    — a ``planned`` fallback on the step's next channel (to be rendered) or an open collector task. A statement
    of account refused has none: it is no ladder step, and the next cycle's statement comes anyway."""
    failed = fetch_by_keys(connection, outbox, "outbox_id", outbox_ids, PLAN_COLUMNS).filter(
        pl.col("status") == OutboxStatus.FAILED, pl.col("ladder") != STATEMENT_LADDER
    )
    if failed.is_empty():
        return []
    people = contacts(connection, failed["customer_id"]).with_columns(
        reachable(spec.channel).alias(f"_reaches_{spec.channel.value}") for spec in CHANNELS.values()
    )
    reaches = {row["customer_id"]: row for row in people.iter_rows(named=True)}
    existing = set(
        fetch(
            connection,
            select(outbox.c.dedupe_key).where(outbox.c.customer_id.in_(failed["customer_id"].unique().to_list())),
            schema_of(outbox, ["dedupe_key"]),
        )["dedupe_key"].to_list()
    )
    new_rows = [
        follow
        for row in failed.iter_rows(named=True)
        if (follow := _follow(policy, row, reaches.get(row["customer_id"], {}), existing)) is not None
    ]
    if new_rows:  # a few rows: one INSERT, no staging table (its CREATE and DROP cost more than the rows)
        connection.execute(outbox.insert(), new_rows)
    return new_rows


def counted(new_rows: list[dict[str, object]]) -> FollowUps:
    planned = sum(1 for r in new_rows if r["status"] == OutboxStatus.PLANNED.value)
    return FollowUps(fallbacks=planned, collector_tasks=len(new_rows) - planned)


def days_to_render(new_rows: list[dict[str, object]]) -> list[date]:
    """The business days of the planned fallbacks among ``new_rows``: what rendering has to write."""
    planned = [r["business_date"] for r in new_rows if r["status"] == OutboxStatus.PLANNED.value]
    return sorted({day for day in planned if isinstance(day, date)})


class FollowUp:
    """Plans what follows a refusal; ``render(day, now)`` writes the day's planned messages."""

    def __init__(self, ledger: Ledger, policy: Policy, render: Callable[[date, datetime], object]) -> None:
        self.ledger, self.policy, self.render = ledger, policy, render

    def after_failures(self, outbox_ids: pl.Series, now: datetime) -> FollowUps:
        with self.ledger.begin_write(OUTBOX_LOCK) as connection:
            new_rows = plan_follow_ups(connection, self.policy, outbox_ids)
        for day in days_to_render(new_rows):
            self.render(day, now)
        return counted(new_rows)

    def render_waiting(self, now: datetime) -> int:
        """Write the fallbacks a provider event planned (``delivery_status`` plans them with a connection only)
        whose window is still open, so that this run can send them; how many days were rendered."""
        with self.ledger.begin() as connection:
            days = connection.execute(
                select(outbox.c.business_date)
                .where(
                    outbox.c.status == OutboxStatus.PLANNED,
                    outbox.c.channel != COLLECTOR_CHANNEL,
                    outbox.c.window_end > now.astimezone(UTC),
                )
                .distinct()
            ).scalars()
            waiting = sorted(days)
        for day in waiting:
            self.render(day, now)
        return len(waiting)


def _follow(
    policy: Policy, row: dict[str, object], person: dict[str, object], existing: set[str]
) -> dict[str, object] | None:
    """The row that follows ``row``'s refusal (another channel, else a collector task; None: one exists)."""

    def key_of(channel: str) -> str:
        return reminder_key(str(row["customer_id"]), str(row["episode_id"]), str(row["step"]), channel)

    refused = f"{CHANNELS[Channel(str(row['channel']))].label} was refused ({row['status_reason'] or 'for good'})"
    others = [c for c in _channels(policy, str(row["ladder"]), str(row["step"])) if c != row["channel"]]
    channel = next((c for c in others if key_of(c) not in existing and person.get(f"_reaches_{c}")), None)
    if channel is not None:
        follow = {"channel": channel, "status": OutboxStatus.PLANNED.value, "status_reason": f"fallback: {refused}"}
    elif key_of(COLLECTOR_CHANNEL) not in existing:
        follow = {
            "channel": COLLECTOR_CHANNEL,
            "status": OutboxStatus.TASK_OPEN.value,
            "status_reason": f"no other channel reaches the customer: {refused}",
        }
    else:
        return None
    follow["dedupe_key"] = key_of(follow["channel"])
    follow["status_reason"] = follow["status_reason"][:200]
    existing.add(follow["dedupe_key"])
    return row | follow
