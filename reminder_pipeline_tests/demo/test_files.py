from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from reminder_pipeline.core.canonical import ROW_NUMBER
from reminder_pipeline.demo.files import write_drop_folder, write_history
from reminder_pipeline.demo.generator import DemoData, generate_demo_data
from reminder_pipeline.ingestion.files import read_file

START = date(2025, 1, 1)
END = date(2025, 3, 31)


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate_demo_data(1_500, seed=4, start=START, end=END, dirty_rate=0.01)


def _read_all(paths: list[Path], name: str) -> pl.DataFrame:
    frames = [
        read_file(path).frame.drop(ROW_NUMBER).with_columns(pl.lit(path.parent.name).alias("day"))
        for path in paths
        if path.stem == name
    ]
    return pl.concat(frames, how="vertical")


def test_drop_folder_has_daily_files(data: DemoData, tmp_path: Path) -> None:
    paths = write_drop_folder(data, tmp_path)
    days = {path.parent.name for path in paths}
    assert all(path.is_file() and path.parent.parent == tmp_path for path in paths)
    assert {path.name for path in paths} == {"customers.csv", "invoices.csv", "payments.csv"}
    assert min(days) == START.isoformat()
    assert max(days) <= END.isoformat()
    assert len(days) > 60
    assert all(path.stat().st_size > 0 for path in paths)


def test_drop_invoices_are_not_yet_paid_when_issued(data: DemoData, tmp_path: Path) -> None:
    invoices = _read_all(write_drop_folder(data, tmp_path), "invoices")
    issued = invoices.filter(pl.col("day") == pl.col("issue_date"))
    assert issued.height == data.invoices.height
    assert issued["paid_date"].is_null().all()
    assert issued["paid_amount"].is_null().all()
    assert issued["disputed"].is_null().all()
    assert issued["dispute_date"].is_null().all()


def test_disputed_invoice_reappears_on_its_dispute_day(data: DemoData, tmp_path: Path) -> None:
    invoices = _read_all(write_drop_folder(data, tmp_path), "invoices")
    flagged = invoices.filter(pl.col("disputed") == "true")
    disputed = data.invoices.filter(pl.col("dispute_date").is_not_null())
    assert flagged.height == disputed["invoice_id"].n_unique() > 0
    same = ["invoice_id", "customer_id", "issue_date", "due_date", "amount", "currency"]
    matched = flagged.join(disputed.select(*same, "dispute_date"), on=same, how="inner")
    assert matched.height == flagged.height
    assert (matched["day"] == matched["dispute_date"]).all()
    assert matched["paid_date"].is_null().all()


def test_customers_and_payments_arrive_on_their_day(data: DemoData, tmp_path: Path) -> None:
    paths = write_drop_folder(data, tmp_path)
    customers = _read_all(paths, "customers")
    payments = _read_all(paths, "payments")
    assert customers.height == data.customers.height
    assert (customers["day"] == customers["first_invoice_date"]).all()
    assert payments.height == data.payments.height
    assert (payments["day"] == payments["paid_date"]).all()


def test_parquet_drop_folder_is_readable(data: DemoData, tmp_path: Path) -> None:
    paths = write_drop_folder(data, tmp_path, file_format="parquet")
    assert {path.suffix for path in paths} == {".parquet"}
    invoices = pl.concat([pl.read_parquet(path) for path in paths if path.stem == "invoices"])
    assert invoices.schema["paid_date"] == pl.String
    assert invoices.filter(pl.col("disputed").is_null()).height == data.invoices.height
    customers = read_file(next(path for path in paths if path.stem == "customers")).frame
    assert customers.height > 0


def test_unknown_file_format_is_refused(data: DemoData, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="file_format"):
        write_drop_folder(data, tmp_path, file_format="xlsx")


def test_history_round_trips(data: DemoData, tmp_path: Path) -> None:
    paths = write_history(data, tmp_path / "history")
    assert set(paths) == {"invoices", "customers", "payments", "truth"}
    for name in ("invoices", "payments"):
        frame = read_file(paths[name]).frame.drop(ROW_NUMBER)
        assert frame.equals(getattr(data, name)), name
    customers = read_file(paths["customers"]).frame.drop(ROW_NUMBER)
    assert customers.equals(data.customers.with_columns(pl.col("first_invoice_date").cast(pl.String)))
    assert pl.read_parquet(paths["truth"]).equals(data.truth)
