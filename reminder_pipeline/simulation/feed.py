"""The billing system's drop folder: the history up to the day before the simulation, then one folder a day.

``DIR/drop/<day before>/`` holds the state as of then (customers, invoices with what was paid and
disputed by then, payments made by then), loaded once; each simulated day's folder holds the customers
who joined and the invoices issued that day, and again the invoices disputed that day, flagged — as
``reminder_pipeline.demo.files`` writes the demo's drop folder. Payments during the simulation do not
come through the feed: they arrive live, by webhook. The files are written once, up front, and read
by ingestion day by day (the audit counts their rows against what ingestion recorded).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from reminder_pipeline.core.canonical import INVOICE_SCHEMA
from reminder_pipeline.simulation.world import World

LATER_FIELDS = ("paid_date", "paid_amount", "disputed", "dispute_date")
"""What an invoice row does not know on its issue day."""


def _text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.all().cast(pl.String))


def _write(folder: Path, name: str, frame: pl.DataFrame, written: list[Path]) -> None:
    if frame.is_empty():
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    _text(frame).write_csv(path)
    written.append(path)


def _history(world: World, root: Path, written: list[Path]) -> None:
    feed, first = world.feed, world.first_day.isoformat()
    folder = root / world.history_day.isoformat()
    customers = feed.customers.filter(pl.col("first_invoice_date") < world.first_day)
    invoices = feed.invoices.filter(pl.col("issue_date") < first).with_columns(
        *[pl.when(pl.col("paid_date") < first).then(pl.col(c)).alias(c) for c in ("paid_date", "paid_amount")],
        *[pl.when(pl.col("dispute_date") < first).then(pl.col(c)).alias(c) for c in ("disputed", "dispute_date")],
    )
    _write(folder, "customers", customers, written)
    _write(folder, "invoices", invoices, written)
    _write(folder, "payments", feed.payments.filter(pl.col("paid_date") < first), written)


def _day(world: World, day: date, root: Path, written: list[Path]) -> None:
    feed, text = world.feed, day.isoformat()
    folder = root / text
    columns = list(INVOICE_SCHEMA.columns)
    unknown_yet = [pl.lit(None, dtype=pl.String).alias(c) for c in LATER_FIELDS]
    issued = feed.invoices.filter(pl.col("issue_date") == text).select(columns).with_columns(unknown_yet)
    disputed = (
        feed.invoices.filter(pl.col("dispute_date") == text)
        .unique(subset=["invoice_id"], keep="first", maintain_order=True)
        .select(columns)
        .with_columns(unknown_yet)
        .with_columns(pl.lit("true").alias("disputed"), pl.lit(text).alias("dispute_date"))
    )
    _write(folder, "customers", feed.customers.filter(pl.col("first_invoice_date") == day), written)
    _write(folder, "invoices", pl.concat([issued, disputed]), written)


def write_feed(world: World, root: Path) -> list[Path]:
    """Every drop file of the simulation under ``root``; the paths written."""
    written: list[Path] = []
    _history(world, root, written)
    for day in world.days:
        _day(world, day, root, written)
    return written
