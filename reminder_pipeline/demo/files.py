"""Write generated demo data to disk: as a billing system's daily drop folder, or as one history export."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from reminder_pipeline.core.canonical import INVOICE_SCHEMA
from reminder_pipeline.demo.generator import DemoData

FILE_FORMATS = ("csv", "parquet")
DAY = "_day"
NOT_KNOWN_AT_ISSUE = ("paid_date", "paid_amount", "disputed", "dispute_date")


def _write(frame: pl.DataFrame, path: Path, file_format: str) -> None:
    if file_format == "csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path)


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text, dates ISO, as the billing system would export it."""
    return frame.with_columns(pl.all().cast(pl.String))


def _daily_invoices(invoices: pl.DataFrame) -> pl.DataFrame:
    """Each invoice on its issue day without what is only known later, and again on its dispute day, flagged."""
    columns = list(INVOICE_SCHEMA.columns)
    unknown_yet = [pl.lit(None, dtype=pl.String).alias(c) for c in NOT_KNOWN_AT_ISSUE]
    issued = invoices.select(*columns, pl.col("issue_date").alias(DAY)).with_columns(unknown_yet)
    disputed = (
        invoices.filter(pl.col("dispute_date").is_not_null())
        .unique(subset=["invoice_id"], keep="first", maintain_order=True)
        .select(*columns, pl.col("dispute_date").alias(DAY))
        .with_columns(unknown_yet)
        .with_columns(pl.lit("true").alias("disputed"), pl.col(DAY).cast(pl.String).alias("dispute_date"))
    )
    return pl.concat([issued, disputed], how="vertical")


def write_drop_folder(data: DemoData, root: Path, *, file_format: str = "csv") -> list[Path]:
    """Daily files ``root/YYYY-MM-DD/{customers,invoices,payments}.<format>``; only days with rows get a file.

    A customer arrives on its first invoice day, an invoice on its issue day (not yet paid or disputed)
    and again on its dispute day with ``disputed`` true, a payment on the day it was made.
    """
    if file_format not in FILE_FORMATS:
        raise ValueError(f"file_format must be one of {FILE_FORMATS}, not {file_format!r}")
    tables = {
        "customers": _as_text(data.customers).with_columns(pl.col("first_invoice_date").alias(DAY)),
        "invoices": _daily_invoices(data.invoices),
        "payments": data.payments.with_columns(pl.col("paid_date").alias(DAY)),
    }
    written: list[Path] = []
    for name, frame in tables.items():
        for key, rows in frame.partition_by(DAY, as_dict=True, maintain_order=True).items():
            directory = root / str(key[0])
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"{name}.{file_format}"
            _write(rows.drop(DAY), path, file_format)
            written.append(path)
    return sorted(written)


def write_history(data: DemoData, directory: Path) -> dict[str, Path]:
    """The state as of the end date: invoices, customers and payments as CSV, plus the hidden ``truth.parquet``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "invoices": directory / "invoices.csv",
        "customers": directory / "customers.csv",
        "payments": directory / "payments.csv",
        "truth": directory / "truth.parquet",
    }
    data.invoices.write_csv(paths["invoices"])
    _as_text(data.customers).write_csv(paths["customers"])
    data.payments.write_csv(paths["payments"])
    data.truth.write_parquet(paths["truth"])
    return paths
