"""A small day-by-day simulation of planning and delivery, for property tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import polars as pl

from reminder_pipeline.core.planning.plan import OUTBOX_SCHEMA, PlanInputs, plan_day
from reminder_pipeline.core.policy.config import Policy

UTC_DT = pl.Datetime("us", "UTC")
PROMISE_SCHEMA = {"customer_id": pl.String, "promised_date": pl.Date, "made_on": pl.Date, "status": pl.String}


@dataclass
class World:
    customers: pl.DataFrame
    invoices: pl.DataFrame
    """invoice_id, customer_id, due_date, currency, amount_minor, paid_on (null: never), disputed_from/_until."""
    segments: pl.DataFrame
    promises: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PROMISE_SCHEMA))
    outbox: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=OUTBOX_SCHEMA))
    decisions: list[pl.DataFrame] = field(default_factory=list)

    def open_on(self, day: date) -> pl.DataFrame:
        return self.invoices.filter(
            (pl.col("issue_date") <= day) & (pl.col("paid_on").is_null() | (pl.col("paid_on") > day))
        ).select("invoice_id", "customer_id", "due_date", "currency", pl.col("amount_minor").alias("balance_minor"))

    def disputed_on(self, day: date) -> pl.DataFrame:
        return self.invoices.filter(
            (pl.col("disputed_from") <= day) & (pl.col("disputed_until").is_null() | (pl.col("disputed_until") > day))
        ).select("invoice_id")

    def run_day(self, day: date, policy: Policy, run_at: time = time(5, 0)) -> pl.DataFrame:
        """Plan ``day`` as the daily run would at ``run_at`` UTC, then deliver what was planned."""
        now = datetime.combine(day, run_at, tzinfo=UTC)
        plan = plan_day(
            PlanInputs(
                day,
                now,
                self.open_on(day),
                self.disputed_on(day),
                self.promises,
                self.customers,
                self.segments,
                self.outbox,
            ),
            policy,
            "UTC",
        )
        self.decisions.append(plan.decisions)
        new = plan.outbox.join(self.outbox.select("dedupe_key"), on="dedupe_key", how="anti")
        delivered = new.with_columns(
            pl.when(pl.col("status") == "planned").then(pl.lit("sent")).otherwise(pl.col("status")).alias("status")
        )
        self.outbox = pl.concat([self.outbox, delivered.select(list(OUTBOX_SCHEMA))], how="vertical")
        return plan.decisions

    def backfill(self, first: date, last: date, policy: Policy, now: datetime) -> None:
        """Replan past days after an outage, at ``now``: nothing whose window is over goes out."""
        day = first
        while day <= last:
            plan = plan_day(
                PlanInputs(
                    day,
                    now,
                    self.open_on(day),
                    self.disputed_on(day),
                    self.promises,
                    self.customers,
                    self.segments,
                    self.outbox,
                ),
                policy,
                "UTC",
            )
            self.decisions.append(plan.decisions)
            new = plan.outbox.join(self.outbox.select("dedupe_key"), on="dedupe_key", how="anti")
            self.outbox = pl.concat(
                [self.outbox, new.with_columns(pl.lit("sent").alias("status")).select(list(OUTBOX_SCHEMA))]
            )
            day += timedelta(days=1)
