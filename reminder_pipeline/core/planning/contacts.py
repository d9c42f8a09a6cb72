"""What counts as a contact for a day's decisions, where each episode stands, and the contacts around a
message's local date (caps and intervals)."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from reminder_pipeline.core.outbox import COLLECTOR_CHANNEL, NOT_CONTACTS, NOT_HANDED_OVER, STATEMENT_LADDER


def counted_contacts(outbox: pl.DataFrame, day: date, now: datetime) -> pl.DataFrame:
    """Outbox rows that count as a contact for ``day``'s decisions.

    Whatever reached or may still reach someone, on any day, except the day's own unsent plans,
    so that replanning a day decides the same again. A statement of account is not the plan's own: it
    counts from the moment the statement run writes it, on its cycle day too.
    """
    unsent = pl.col("status").is_in(NOT_HANDED_OVER)
    own_plan = (pl.col("business_date") == day) & (pl.col("ladder") != STATEMENT_LADDER)
    return outbox.filter(
        ~pl.col("status").is_in(NOT_CONTACTS) & ~(unsent & (pl.col("window_end") <= now)) & ~(unsent & own_plan)
    )


def episode_progress(counted: pl.DataFrame) -> pl.DataFrame:
    """Per dunning episode, how far it has gone whichever ladders it went through: ``reached_offset``,
    ``reached_on`` (when the furthest step went out), ``reached_steps`` (every step name received) and
    ``handed_off`` (a collector has it)."""
    return counted.group_by("customer_id", "episode_id").agg(
        pl.col("offset_days").max().alias("reached_offset"),
        pl.col("send_on").sort_by("offset_days").last().alias("reached_on"),
        pl.col("step").unique().sort().alias("reached_steps"),
        (pl.col("channel") == COLLECTOR_CHANNEL).any().alias("handed_off"),
    )


def contacts_around(counted: pl.DataFrame, targets: pl.DataFrame) -> pl.DataFrame:
    """Per customer and local date ``send_on`` a message would arrive on (``targets``, one or more dates a
    customer): same-day, weekly and nearest contacts, before and after it."""
    messages = counted.filter(pl.col("channel") != COLLECTOR_CHANNEL).select(
        "customer_id", pl.col("send_on").alias("_on")
    )
    distance = (pl.col("_on") - pl.col("send_on")).dt.total_days()
    return (
        messages.join(targets.select("customer_id", "send_on"), on="customer_id", how="inner")
        .group_by("customer_id", "send_on")
        .agg(
            (distance == 0).any().alias("contacted_today"),
            distance.is_between(-6, 0).sum().alias("contacts_this_week"),
            distance.is_between(0, 6).sum().alias("contacts_next_week"),
            distance.abs().filter(distance != 0).min().alias("nearest_contact_days"),
            pl.col("_on").filter(distance < 0).max().alias("last_contact"),
        )
    )
