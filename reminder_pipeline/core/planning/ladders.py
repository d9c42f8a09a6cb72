"""Which ladder a customer is on, and which of its steps an episode is due: the highest one beyond its
progress so far (whichever ladder that progress was made on), and the steps passed over catching up."""

from __future__ import annotations

import polars as pl

from reminder_pipeline.core.planning.reasons import Decision
from reminder_pipeline.core.policy.config import Assignment, Policy

SEGMENT_COLUMNS = {
    "risk_band": "risk_band",
    "aging_bucket": "aging_bucket",
    "value_tier": "value_tier",
    "channel": "segment_channel",
}
"""An assignment's fields and the plan's columns holding them (the segment's channel is renamed)."""


def ladder_steps(policy: Policy) -> pl.DataFrame:
    rows = [
        {
            "ladder": name,
            "step_index": index,
            "step": step.name,
            "offset_days": step.offset_days,
            "action": step.action.value,
            "first_channel": step.channels[0].value if step.channels else None,
            "second_channel": step.channels[1].value if len(step.channels) > 1 else None,
            "tone": step.tone.value,
        }
        for name, ladder in policy.ladders.items()
        for index, step in enumerate(ladder.steps)
    ]
    return pl.DataFrame(rows).with_columns(pl.col("step_index", "offset_days").cast(pl.Int64))


def _matches(assignment: Assignment) -> pl.Expr:
    conditions = [
        pl.col(column) == value
        for field, column in SEGMENT_COLUMNS.items()
        if (value := getattr(assignment, field)) is not None
    ]
    return pl.all_horizontal(conditions).fill_null(False) if conditions else pl.lit(True)


def assign_ladder(assignments: list[Assignment]) -> pl.Expr:
    """The ladder of the first assignment matching the segment columns."""
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for assignment in reversed(assignments):
        expr = pl.when(_matches(assignment)).then(pl.lit(assignment.ladder)).otherwise(expr)
    return expr


def step_to_plan(frame: pl.DataFrame, steps: pl.DataFrame) -> pl.DataFrame:
    """The highest step of the customer's ladder now due beyond the episode's progress so far; after a
    broken promise, at least the next step beyond it."""
    candidates = frame.select(
        "customer_id", "ladder", "days_past_due", "reached_offset", "reached_steps", "handed_off", "escalated"
    ).join(steps, on="ladder")
    is_reached = pl.col("reached_steps").list.contains(pl.col("step")).fill_null(False)
    last_reached_index = pl.col("step_index").filter(is_reached).max().over("customer_id")
    beyond = (
        candidates.filter(
            ~pl.col("handed_off").fill_null(False)
            & ~is_reached
            & (pl.col("reached_offset").is_null() | (pl.col("offset_days") > pl.col("reached_offset")))
            & (last_reached_index.is_null() | (pl.col("step_index") > last_reached_index))
        )
        .group_by("customer_id")
        .agg(
            pl.col("step_index").filter(pl.col("offset_days") <= pl.col("days_past_due")).max().alias("_due"),
            pl.col("step_index").min().alias("_next"),
            pl.col("escalated").first(),
        )
        .select(
            "customer_id",
            pl.when(pl.col("escalated"))
            .then(pl.max_horizontal("_due", "_next"))
            .otherwise(pl.col("_due"))
            .alias("step_index"),
        )
    )
    return frame.join(beyond, on="customer_id", how="left").join(steps, on=["ladder", "step_index"], how="left")


def superseded_steps(decided: pl.DataFrame, steps: pl.DataFrame) -> pl.DataFrame:
    """Per planned customer: the steps of its ladder passed over by catching up (between the furthest step
    reached and the one planned, other than those reached under another ladder)."""
    return (
        decided.filter(pl.col("decision") != Decision.SKIP.value)
        .select("customer_id", "ladder", pl.col("offset_days").alias("_to"), "reached_offset", "reached_steps")
        .join(steps.select("ladder", pl.col("offset_days").alias("_at"), pl.col("step").alias("_name")), on="ladder")
        .filter(
            (pl.col("reached_offset").is_null() | (pl.col("_at") > pl.col("reached_offset")))
            & (pl.col("_at") < pl.col("_to"))
            & ~pl.col("reached_steps").list.contains(pl.col("_name")).fill_null(False)
        )
        .sort("_at")
        .group_by("customer_id")
        .agg(pl.col("_name").alias("superseded_steps"))
    )
