"""The ``reminders`` command line as DESIGN.md specifies it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from reminder_pipeline.cli import main
from reminder_pipeline.core.demo.generator import generate_demo_data
from reminder_pipeline.demo_files import write_history
from reminder_pipeline.ledger.migrate import head_revision
from reminder_pipeline_tests.ingestion.helpers import write_csv


def _ingest(*args: str) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(main, ["ingest", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_ingest_the_ibm_sample(ledger_url: str, ibm_csv: Path, ibm_mapping: Path) -> None:
    code, report = _ingest("--file", str(ibm_csv), "--mapping", str(ibm_mapping), "--db", ledger_url)
    assert code == 0
    assert (report["rows_in"], report["accepted"], report["quarantined"]) == (2466, 2466, 0)
    assert report["reasons"] == {}
    derived = report["derived"][0]  # type: ignore[index]
    assert (derived["entity"], derived["accepted"]) == ("customers", 100)
    code, again = _ingest("--file", str(ibm_csv), "--mapping", str(ibm_mapping), "--db", ledger_url)
    assert (code, again["inserted"], again["unchanged"]) == (0, 0, 2466)


def test_bad_rows_are_reported_per_reason_with_exit_code_0(sqlite_url: str, tmp_path: Path) -> None:
    customers = write_csv(tmp_path / "c.csv", "customer_id,email\nC1,c1@example.com")
    assert _ingest("--file", str(customers), "--entity", "customers", "--db", sqlite_url)[0] == 0
    invoices = write_csv(
        tmp_path / "i.csv",
        "invoice_id,customer_id,issue_date,due_date,amount,currency\n"
        "A,C1,2026-01-01,2026-01-31,1.00,EUR\nB,C1,2026-01-01,2026-01-31,x,EUR\nC,C9,2026-01-01,2026-01-31,1,EUR",
    )
    code, report = _ingest("--file", str(invoices), "--db", sqlite_url)
    assert code == 0
    assert report["reasons"] == {"invalid_amount": 1, "unknown_customer": 1}
    listing = CliRunner().invoke(main, ["quarantine", "--db", sqlite_url, "--json"])
    assert json.loads(listing.stdout)["counts"] == {"invalid_amount": 1, "unknown_customer": 1}


def test_an_empty_file_is_processed(sqlite_url: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, report = _ingest("--file", str(empty), "--db", sqlite_url)
    assert (code, report["rows_in"], report["warnings"]) == (0, 0, ["the file is empty"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"foo,bar\n1,2\n", "missing required columns"),
        (b"\x00\x01\x02\x03binary\xff\xfe", "binary"),
        (b"PAR1 not really parquet", "Parquet"),
    ],
)
def test_an_unusable_file_exits_2_with_a_clear_message(
    sqlite_url: str, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    code, report = _ingest("--file", str(path), "--db", sqlite_url)
    assert code == 2
    assert message in str(report["error"])


def test_a_bad_mapping_exits_2_naming_its_line(sqlite_url: str, tmp_path: Path, ibm_csv: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  invoice_id: invoiceNumber\nformt:\n  date_format: x\n")
    code, report = _ingest("--file", str(ibm_csv), "--mapping", str(mapping), "--db", sqlite_url)
    assert code == 2
    assert "line 3" in str(report["error"])


def test_db_upgrade_reports_the_revision(sqlite_url: str) -> None:
    result = CliRunner().invoke(main, ["db", "upgrade", "--db", sqlite_url])
    assert result.exit_code == 0
    assert f"revision {head_revision()}" in result.stdout


@pytest.mark.slow
def test_a_million_row_file_through_the_real_command(tmp_path: Path) -> None:
    data = generate_demo_data(1_000_000, seed=11, start=date(2024, 1, 1), end=date(2025, 12, 31), dirty_rate=0.005)
    files = write_history(data, tmp_path / "history")
    db = f"sqlite:///{tmp_path / 'big.sqlite'}"
    command = [sys.executable, "-m", "reminder_pipeline.cli", "ingest", "--db", db, "--json"]
    subprocess.run(
        [*command, "--file", str(files["customers"]), "--entity", "customers"], check=True, capture_output=True
    )
    completed = subprocess.run(
        [*command, "--file", str(files["invoices"])], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    report = json.loads(completed.stdout)
    assert report["rows_in"] == 1_000_000
    assert report["rows_in"] == report["accepted"] + report["quarantined"]
    assert sum(report["reasons"].values()) == report["quarantined"]
    assert 0 < report["quarantined"] < 20_000
    assert report["inserted"] + report["updated"] + report["unchanged"] == report["accepted"]


def test_evaluate_on_the_ibm_sample_prints_the_metrics(ibm_csv: Path, ibm_mapping: Path) -> None:
    args = ["--history", str(ibm_csv), "--mapping", str(ibm_mapping), "--split-date", "2013-07-01"]
    result = CliRunner().invoke(main, ["evaluate", *args, "--exclude", "disputed", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"auc", "pr_auc", "brier", "n_train", "n_test", "base_rate"} <= set(report)
    assert (report["n_train"], report["n_test"]) == (1930, 536)
    assert report["auc"] > 0.86
    assert report["excluded"] == ["disputed"]


def test_evaluate_works_on_another_history_through_its_mapping(tmp_path: Path) -> None:
    """A different real-world layout (other names, day-first dates, decimal commas) needs only a mapping."""
    data = generate_demo_data(4000, seed=3, start=date(2024, 1, 1), end=date(2025, 6, 30), dirty_rate=0.0)
    exported = data.invoices.select(
        pl.col("invoice_id").alias("Rechnung"),
        pl.col("customer_id").alias("Kunde"),
        pl.col("issue_date").str.to_date().dt.strftime("%d.%m.%Y").alias("Datum"),
        pl.col("due_date").str.to_date().dt.strftime("%d.%m.%Y").alias("Fällig"),
        pl.col("amount").str.replace(".", ",", literal=True).alias("Betrag"),
        pl.col("currency").alias("Währung"),
        pl.col("paid_date").str.to_date().dt.strftime("%d.%m.%Y").alias("Bezahlt"),
    )
    history = tmp_path / "export.csv"
    exported.write_csv(history, separator=";")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "delimiter: ';'\n"
        "columns: {invoice_id: Rechnung, customer_id: Kunde, issue_date: Datum, due_date: Fällig,\n"
        "          amount: Betrag, currency: Währung, paid_date: Bezahlt}\n"
        "format: {date_format: '%d.%m.%Y', decimal_separator: ','}\n"
    )
    args = ["--history", str(history), "--mapping", str(mapping), "--split-date", "2025-01-01", "--json"]
    result = CliRunner().invoke(main, ["evaluate", *args])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows_quarantined"] == {}
    assert report["auc"] > 0.8


def test_evaluate_refuses_an_unknown_exclusion(ibm_csv: Path, ibm_mapping: Path) -> None:
    args = ["--history", str(ibm_csv), "--mapping", str(ibm_mapping), "--split-date", "2013-07-01", "--json"]
    result = CliRunner().invoke(main, ["evaluate", *args, "--exclude", "colour"])
    assert result.exit_code == 2
    assert "cannot exclude" in json.loads(result.stdout)["error"]
