"""A small day-by-day world for property tests: planning runs (some twice a day), deliveries that
sometimes do not happen, outages caught up by backfills, customers changing risk band.

Its outbox follows the ledger's rules (``ledger/outbox.py``): a dedupe key is written once and
revived only when it was cancelled or expired; unsent rows expire with their window and are
cancelled when the day is planned again without them or the customer owes nothing any more.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

import polars as pl

from reminder_pipeline.core.outbox import COLLECTOR_CHANNEL, NOT_HANDED_OVER, REVIVABLE, OutboxStatus
from reminder_pipeline.core.planning.plan import (
    HANDED_OVER_SCHEMA,
    OUTBOX_SCHEMA,
    PROMISE_SCHEMA,
    PlanInputs,
    plan_day,
)
from reminder_pipeline.core.planning.reasons import STOP_REASONS
from reminder_pipeline.core.policy.config import Policy

UTC_DT = pl.Datetime("us", "UTC")
WORLD_OUTBOX = {**OUTBOX_SCHEMA, "window_start": UTC_DT, "invoice_ids": pl.List(pl.String())}


@dataclass
class World:
    customers: pl.DataFrame
    invoices: pl.DataFrame
    """invoice_id, customer_id, issue_date, due_date, currency, amount_minor, paid_on (null: never),
    disputed_from, disputed_until."""
    bands: dict[str, list[str]]
    """Per customer, its risk band on each day of the simulation (the last one after that)."""
    start: date
    promises: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PROMISE_SCHEMA))
    delivery_failure: float = 0.0
    """The share of planned messages that are never handed to a provider (they expire)."""
    seed: int = 0
    outbox: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=WORLD_OUTBOX))
    decisions: list[pl.DataFrame] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def open_on(self, day: date) -> pl.DataFrame:
        """Invoices open when ``day`` began, with their balance now (paid that day: nothing owed)."""
        return self.invoices.filter(
            (pl.col("issue_date") <= day) & (pl.col("paid_on").is_null() | (pl.col("paid_on") >= day))
        ).select(
            "invoice_id",
            "customer_id",
            "issue_date",
            "due_date",
            "currency",
            pl.when(pl.col("paid_on") == day).then(0).otherwise(pl.col("amount_minor")).alias("balance_minor"),
        )

    def disputed_on(self, day: date) -> pl.DataFrame:
        return self.invoices.filter(
            (pl.col("disputed_from") <= day) & (pl.col("disputed_until").is_null() | (pl.col("disputed_until") > day))
        ).select("invoice_id")

    def segments_on(self, day: date) -> pl.DataFrame:
        index = (day - self.start).days
        return pl.DataFrame(
            [
                {
                    "customer_id": customer,
                    "risk_band": bands[min(max(index, 0), len(bands) - 1)],
                    "aging_bucket": "1-7",
                    "value_tier": "small",
                    "channel": "email",
                }
                for customer, bands in self.bands.items()
            ]
        )

    def run(self, day: date, policy: Policy, at: datetime, deliver: bool = True) -> pl.DataFrame:
        """Plan ``day`` as a run at ``at`` would, write the outbox as the ledger does, then deliver."""
        unsent = pl.col("status").is_in(NOT_HANDED_OVER)
        self.outbox = self.outbox.with_columns(
            pl.when(unsent & (pl.col("window_end") <= at))
            .then(pl.lit(OutboxStatus.EXPIRED.value))
            .otherwise("status")
            .alias("status")
        )
        inputs = PlanInputs(
            day,
            at,
            self.open_on(day),
            self.disputed_on(day),
            self.promises,
            self.customers,
            self.segments_on(day),
            self.outbox.select(list(OUTBOX_SCHEMA)),
            handed_over=self.handed_over(),
        )
        plan = plan_day(inputs, policy)
        self.decisions.append(plan.decisions.with_columns(pl.lit(at).alias("planned_at")))
        self._write(plan.outbox.select(list(WORLD_OUTBOX)), plan.decisions, day)
        if deliver:
            self._deliver(day)
        return plan.decisions

    def _write(self, rows: pl.DataFrame, decisions: pl.DataFrame, day: date) -> None:
        existing = self.outbox.select("dedupe_key", "status")
        revived = rows.join(existing.filter(pl.col("status").is_in(REVIVABLE)), on="dedupe_key")
        new = rows.join(existing, on="dedupe_key", how="anti")
        kept = self.outbox.join(revived.select("dedupe_key"), on="dedupe_key", how="anti")
        outbox = pl.concat([kept, revived.drop("status_right", strict=False).select(list(WORLD_OUTBOX)), new])
        stopped = decisions.filter(pl.col("reason").is_in(list(STOP_REASONS)))["customer_id"]
        decided = decisions["customer_id"]
        stale = (
            pl.col("status").is_in(NOT_HANDED_OVER)
            & (pl.col("business_date") <= day)
            & (
                ((pl.col("business_date") == day) & ~pl.col("dedupe_key").is_in(rows["dedupe_key"].implode()))
                | pl.col("customer_id").is_in(stopped.implode())
                | ~pl.col("customer_id").is_in(decided.implode())
            )
        )
        self.outbox = outbox.with_columns(
            pl.when(stale).then(pl.lit(OutboxStatus.CANCELLED.value)).otherwise("status").alias("status")
        )

    def _deliver(self, day: date) -> None:
        """Hand the day's planned messages to the provider, all but those whose delivery fails."""
        planned = (pl.col("status") == OutboxStatus.PLANNED) & (pl.col("business_date") == day)
        keys = self.outbox.filter(planned)["dedupe_key"].to_list()
        failed = [key for key in keys if self._random.random() < self.delivery_failure]
        self.outbox = self.outbox.with_columns(
            pl.when(planned & ~pl.col("dedupe_key").is_in(failed))
            .then(pl.lit(OutboxStatus.SENT.value))
            .otherwise("status")
            .alias("status")
        )

    def handed_over(self) -> pl.DataFrame:
        """The invoices of the collector rows, as the ledger gives them to planning (``HANDED_OVER_SCHEMA``)."""
        tasks = self.outbox.filter(
            (pl.col("channel") == COLLECTOR_CHANNEL)
            & pl.col("status").is_in([OutboxStatus.TASK_OPEN, OutboxStatus.TASK_DONE])
        )
        return (
            tasks.explode("invoice_ids")
            .select("customer_id", pl.col("invoice_ids").alias("invoice_id"), "business_date")
            .drop_nulls("invoice_id")
            .cast(HANDED_OVER_SCHEMA)
        )

    def sent(self) -> pl.DataFrame:
        return self.outbox.filter((pl.col("status") == OutboxStatus.SENT) & (pl.col("channel") != "collector"))


def morning(day: date, hour: int = 5) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)
