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
from reminder_pipeline.demo.files import write_history
from reminder_pipeline.demo.generator import generate_demo_data
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


ROWS = 200_000


@pytest.mark.slow
def test_a_large_file_through_the_real_command(tmp_path: Path) -> None:
    """200,000 invoices with dirty rows through ``reminders ingest``; a million (time and memory) is
    ``benchmarks.ingest``'s."""
    data = generate_demo_data(ROWS, seed=11, start=date(2024, 1, 1), end=date(2025, 12, 31), dirty_rate=0.005)
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
    assert report["rows_in"] == ROWS
    assert report["rows_in"] == report["accepted"] + report["quarantined"]
    assert sum(report["reasons"].values()) == report["quarantined"]
    assert 0 < report["quarantined"] < ROWS // 50
    assert report["inserted"] + report["updated"] + report["unchanged"] == report["accepted"]


def test_evaluate_on_the_ibm_sample_prints_the_metrics(ibm_csv: Path, ibm_mapping: Path) -> None:
    args = ["--history", str(ibm_csv), "--mapping", str(ibm_mapping), "--split-date", "2013-07-01"]
    result = CliRunner().invoke(main, ["evaluate", *args, "--exclude", "disputed", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"auc", "pr_auc", "brier", "n_train", "n_test", "base_rate"} <= set(report)
    assert (report["n_train"], report["n_test"]) == (1930, 536)
    assert report["auc"] >= 0.87
    assert report["excluded"] == ["disputed"]
    assert report["scorer"] in {"model", "rule", "blend"}
    chosen = report[report["scorer"]]
    assert (report["auc"], report["brier"], report["ece"]) == (chosen["auc"], chosen["brier"], chosen["ece"])
    assert report["auc"] >= report["rule"]["auc"]
    assert report["brier"] <= report["rule"]["brier"]
    assert report["gate"]["verdict"]
    assert 0.7 <= report["days_late"]["interval_coverage"] <= 0.9


def test_evaluate_shows_model_rule_and_blend_side_by_side(ibm_csv: Path, ibm_mapping: Path) -> None:
    args = ["--history", str(ibm_csv), "--mapping", str(ibm_mapping), "--split-date", "2013-07-01"]
    result = CliRunner().invoke(main, ["evaluate", *args, "--exclude", "disputed"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["AUC", "PR-AUC", "Brier", "ECE"]
    assert [line.split()[0] for line in lines[1:4]] == ["model", "rule", "blend"]
    assert sum("<- used" in line for line in lines[1:4]) == 1
    assert "the quality gate chose" in result.stdout


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


def _ibm_reshaped(ibm_csv: Path, directory: Path) -> list[tuple[Path, Path]]:
    """The IBM sample as two other systems might export it, each with the mapping it needs.

    A German-style CSV (own column names, ``;``, day-first dates, decimal commas, Ja/Nein) and a
    Parquet file with native dates, numbers and booleans; rows shuffled in both.
    """
    raw = pl.read_csv(ibm_csv, infer_schema=False)

    def day_first(column: str) -> pl.Expr:
        return pl.col(column).str.to_date("%m/%d/%Y").dt.strftime("%d.%m.%Y")

    csv = directory / "Offene_Posten.csv"
    raw.select(
        pl.col("invoiceNumber").alias("Rechnungsnr"),
        pl.col("customerID").alias("Kunde"),
        pl.col("countryCode").alias("Land"),
        day_first("PaperlessDate").alias("Papierlos seit"),
        day_first("InvoiceDate").alias("Rechnungsdatum"),
        day_first("DueDate").alias("Fällig am"),
        pl.col("InvoiceAmount").str.replace(".", ",", literal=True).alias("Betrag"),
        pl.when(pl.col("Disputed") == "Yes").then(pl.lit("Ja")).otherwise(pl.lit("Nein")).alias("Strittig"),
        day_first("SettledDate").alias("Bezahlt am"),
        pl.col("PaperlessBill").alias("Versand"),
        pl.col("DaysToSettle").alias("Tage bis Zahlung"),
        pl.col("DaysLate").alias("Tage verspätet"),
    ).sample(fraction=1.0, shuffle=True, seed=1).write_csv(csv, separator=";")
    csv_mapping = directory / "offene_posten.yaml"
    csv_mapping.write_text(
        "delimiter: ';'\n"
        "columns: {invoice_id: Rechnungsnr, customer_id: Kunde, issue_date: Rechnungsdatum, due_date: Fällig am,\n"
        "          amount: Betrag, paid_date: Bezahlt am, disputed: Strittig}\n"
        "constants: {currency: USD}\n"
        "drop: [Versand, Tage bis Zahlung, Tage verspätet]\n"
        "format: {date_format: '%d.%m.%Y', decimal_separator: ',', true_values: [Ja], false_values: [Nein]}\n"
        "customers:\n"
        "  columns: {paperless_since: Papierlos seit, region: Land}\n",
        encoding="utf-8",
    )

    def native_date(column: str) -> pl.Expr:
        return pl.col(column).str.to_date("%m/%d/%Y")

    parquet = directory / "receivables.parquet"
    raw.select(
        pl.col("invoiceNumber").alias("invoice_no"),
        pl.col("customerID").alias("account"),
        pl.col("countryCode").cast(pl.Int64).alias("country"),
        native_date("PaperlessDate").alias("paperless_from"),
        native_date("InvoiceDate").alias("invoiced"),
        native_date("DueDate").alias("due"),
        pl.col("InvoiceAmount").cast(pl.Float64).alias("amount_usd"),
        (pl.col("Disputed") == "Yes").alias("in_dispute"),
        native_date("SettledDate").alias("settled"),
        pl.col("DaysLate").cast(pl.Int64).alias("days_late"),
    ).sample(fraction=1.0, shuffle=True, seed=2).write_parquet(parquet)
    parquet_mapping = directory / "receivables.yaml"
    parquet_mapping.write_text(
        "columns: {invoice_id: invoice_no, customer_id: account, issue_date: invoiced, due_date: due,\n"
        "          amount: amount_usd, paid_date: settled, disputed: in_dispute}\n"
        "constants: {currency: USD}\n"
        "drop: [days_late]\n"
        "customers:\n"
        "  columns: {paperless_since: paperless_from, region: country}\n",
        encoding="utf-8",
    )
    return [(csv, csv_mapping), (parquet, parquet_mapping)]


@pytest.mark.parametrize("exclude", ["disputed", ""])
def test_evaluate_gives_the_same_figures_on_the_ibm_sample_in_another_shape(
    tmp_path: Path, ibm_csv: Path, ibm_mapping: Path, exclude: str
) -> None:
    """Issue 3: another real history needs a mapping, not code. The IBM invoices re-exported under other
    names, separators, date and number formats, row orders and as Parquet evaluate to the same figures."""

    def evaluate(history: Path, mapping: Path) -> dict[str, object]:
        args = ["--history", str(history), "--mapping", str(mapping), "--split-date", "2013-07-01"]
        result = CliRunner().invoke(main, ["evaluate", *args, "--exclude", exclude, "--json"])
        assert result.exit_code == 0, result.output
        report: dict[str, object] = json.loads(result.stdout)
        return report

    original = evaluate(ibm_csv, ibm_mapping)
    assert (original["rows_used"], original["rows_quarantined"]) == (2466, {})
    for history, mapping in _ibm_reshaped(ibm_csv, tmp_path):
        assert evaluate(history, mapping) == original, history.name


def test_evaluate_refuses_an_unknown_exclusion(ibm_csv: Path, ibm_mapping: Path) -> None:
    args = ["--history", str(ibm_csv), "--mapping", str(ibm_mapping), "--split-date", "2013-07-01", "--json"]
    result = CliRunner().invoke(main, ["evaluate", *args, "--exclude", "colour"])
    assert result.exit_code == 2
    assert "cannot exclude" in json.loads(result.stdout)["error"]


def test_evaluate_reports_the_files_own_late_share_when_it_has_invoices_of_nothing(
    ibm_csv: Path, ibm_mapping: Path, tmp_path: Path
) -> None:
    """Zero-usage months and fully credited bills: amount 0, nothing to settle. They are settled when issued,
    so the late share ``evaluate`` reports is the file's own (DaysLate > 0 among the test invoices)."""
    ibm = pl.read_csv(ibm_csv, infer_schema=False)
    zeros = ibm.gather_every(5).with_columns(
        ("Z" + pl.col("invoiceNumber")).alias("invoiceNumber"),
        pl.lit("0.00").alias("InvoiceAmount"),
        pl.lit(None, dtype=pl.String).alias("SettledDate"),
        pl.lit("0").alias("DaysLate"),
        pl.lit("0").alias("DaysToSettle"),
    )
    history = tmp_path / "with_zeros.csv"
    pl.concat([ibm, zeros]).write_csv(history)
    args = ["--history", str(history), "--mapping", str(ibm_mapping), "--split-date", "2013-07-01"]
    result = CliRunner().invoke(main, ["evaluate", *args, "--exclude", "disputed", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    tested = pl.concat([ibm, zeros]).filter(pl.col("InvoiceDate").str.to_date("%m/%d/%Y") >= date(2013, 7, 1))
    assert report["n_test"] == tested.height
    assert report["base_rate"] == pytest.approx((tested["DaysLate"].cast(pl.Int64) > 0).mean(), abs=1e-12)
