"""Issue 13: progress bars for a person at a terminal, and never in a pipe, a log or CI."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from reminder_pipeline.cli import main
from reminder_pipeline.cli.progress import bars, interactive
from reminder_pipeline.progress import untracked
from reminder_pipeline_tests.ingestion.helpers import write_csv


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    screen = Terminal()
    track = bars(screen)
    assert track is not untracked
    with track("ingesting 3 business days", 3) as advance:
        advance(2, "ingesting day 2 of 3")
    assert "ingesting" in screen.getvalue()


@pytest.mark.parametrize("ci", ["true", "1", "TRUE"])
def test_ci_gets_no_bars_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    assert not interactive(Terminal())
    assert bars(Terminal()) is untracked


def test_a_pipe_gets_no_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert not interactive(io.StringIO())
    assert bars(io.StringIO()) is untracked


def test_ingest_in_a_pipe_prints_its_lines_and_no_progress(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CI", raising=False)
    invoices = write_csv(
        tmp_path / "invoices.csv",
        "invoice_id,customer_id,issue_date,due_date,amount,currency\nI1,C1,2026-03-02,2026-04-01,10.00,EUR",
    )
    customers = write_csv(tmp_path / "customers.csv", "customer_id,email\nC1,c1@example.com")
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    runner = CliRunner()
    assert (
        runner.invoke(main, ["ingest", "--file", str(customers), "--entity", "customers", "--db", ledger]).exit_code
        == 0
    )
    result = runner.invoke(main, ["ingest", "--file", str(invoices), "--db", ledger])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{invoices}: 1 invoices rows in, 1 accepted")
    assert result.stderr == "", "nothing but the result: no bar, no spinner, no escape codes"
