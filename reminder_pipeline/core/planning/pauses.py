"""Pauses a collector put on a customer's reminders, laid over a day's plan.

A paused customer who still owes something is skipped (``paused_by_collector``) whatever step
was due, so nothing is planned for them and their unsent reminders are cancelled (a stop reason);
the episode continues from where it was once the pause ends. A customer with nothing owed keeps
their own decision (``paid``, ``covered_by_credit``...): the pause changes nothing there.
"""

from __future__ import annotations

import polars as pl

from reminder_pipeline.core.planning.plan import Plan, outbox_rows
from reminder_pipeline.core.planning.reasons import DESCRIPTIONS, Decision, SkipReason

PAUSE_SCHEMA = {"customer_id": pl.String(), "paused_until": pl.Date()}
KEEP_REASONS = [SkipReason.PAID.value, SkipReason.COVERED_BY_CREDIT.value]


def apply_pauses(plan: Plan, paused: pl.DataFrame) -> Plan:
    """``plan`` with every paused customer (``PAUSE_SCHEMA``) skipped, and the outbox rows that remain."""
    if paused.is_empty() or plan.decisions.is_empty():
        return plan
    frame = plan.decisions.join(paused.select(list(PAUSE_SCHEMA)), on="customer_id", how="left")
    hit = pl.col("paused_until").is_not_null() & ~pl.col("reason").is_in(KEEP_REASONS).fill_null(False)
    description = DESCRIPTIONS[SkipReason.PAUSED]
    decisions = frame.with_columns(
        pl.when(hit).then(pl.lit(Decision.SKIP.value)).otherwise(pl.col("decision")).alias("decision"),
        pl.when(hit).then(pl.lit(SkipReason.PAUSED.value)).otherwise(pl.col("reason")).alias("reason"),
        pl.when(hit)
        .then(pl.format("{} (until {})", pl.lit(description), pl.col("paused_until")))
        .otherwise(pl.col("detail"))
        .alias("detail"),
        pl.when(hit).then(pl.lit(False)).otherwise(pl.col("escalated")).alias("escalated"),
    ).drop("paused_until")
    return Plan(decisions, outbox_rows(decisions))
