"""Simulations of their own: the same seed gives the same result; on PostgreSQL the ledger's connections are
cut mid-run and nothing breaks; the folder and the ledger a simulation writes into are its own."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reminder_pipeline.ledger.store import upgrade_ledger
from reminder_pipeline.simulation.report import VIOLATIONS
from reminder_pipeline_tests.simulation.conftest import Run, simulate

SMALL = ("--days", "9", "--customers", "150")


def _outcome(result: dict[str, Any]) -> dict[str, Any]:
    """What a seed decides (timings and provider ids aside)."""
    books = result["bookkeeping"]
    return {
        "counters": result["counters"],
        "collection": result["collection"],
        "plan": books["plan"],
        "payments": books["payments"],
        "replies": books["replies"],
        "outbox": result["audit"]["outbox_by_status"],
    }


def _sent(run: Run) -> list[tuple[str, str, str]]:
    """Every message the provider accepted: its reminder, its day and its fate."""
    return sorted((m["reminder_key"], m["accepted_at"][:10], m["status"]) for m in run.messages())


def test_the_same_seed_gives_the_same_simulation(tmp_path: Path) -> None:
    """Without provider faults (whose dice fall in the order concurrent requests arrive) a seed decides all:
    what was sent when, every payment and reply, every figure. (A bounce's fallback once depended on whether
    its event or its row's answer came first; events are settled after every delivery run now.)"""
    first = simulate(tmp_path / "first", *SMALL, "--seed", "21")
    again = simulate(tmp_path / "again", *SMALL, "--seed", "21")
    other = simulate(tmp_path / "other", *SMALL, "--seed", "22")
    assert _outcome(first.result) == _outcome(again.result)
    assert _sent(first) == _sent(again)
    assert _outcome(first.result) != _outcome(other.result)
    assert first.counters["sent"] > 20


def test_without_faults_no_message_waits_until_its_window_is_over(tmp_path: Path) -> None:
    """A statement planned at 07:00 for a window that ends before 13:00 UTC (Australia, Japan) goes in the
    delivery run the sensor starts after the statement run, as in production, instead of expiring unsent."""
    run = simulate(tmp_path / "simulation", *SMALL, "--seed", "21")
    with sqlite3.connect(run.workdir / "ledger.sqlite") as ledger:
        expired = ledger.execute("SELECT ladder, count(*) FROM outbox WHERE status = 'expired' GROUP BY ladder")
        assert dict(expired.fetchall()) == {}
        late_windows = ledger.execute(
            "SELECT count(*) FROM outbox WHERE ladder = 'statement' AND provider_id IS NOT NULL "
            "AND send_on = business_date AND window_end <= datetime(business_date, '+12 hours')"
        ).fetchone()[0]
    assert late_windows > 0, "statements for a window that ends before midday UTC were sent"


def test_on_postgresql_lost_connections_and_a_killed_run_break_no_promise(tmp_path: Path, postgres_url: str) -> None:
    run = simulate(
        tmp_path / "simulation",
        "--days",
        "9",
        "--customers",
        "200",
        "--faults",
        "db_restart=2,kill_delivery=1,provider_error_rate=0.05,webhook_duplicate_rate=0.1",
        "--db",
        postgres_url,
    )
    assert {name: run.counters[name] for name in VIOLATIONS} == dict.fromkeys(VIOLATIONS, 0), run.result["audit"]
    faults = run.result["bookkeeping"]["faults"]
    assert faults["db_restart"] == 2
    assert faults["kill_delivery_killed_mid_batch"] == 1
    assert run.result["files"]["ledger"].startswith("postgresql")
    assert not (tmp_path / "simulation" / "ledger.sqlite").exists()


def _refused(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "reminder_pipeline.cli", "simulate", *SMALL, *args, "--json"]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    assert completed.returncode == 2, completed.stderr
    assert completed.stderr.startswith("error: "), completed.stderr
    assert completed.stderr.count("\n") == 1, completed.stderr
    assert json.loads(completed.stdout)["error"] == completed.stderr.removeprefix("error: ").strip()
    return completed


def test_a_folder_it_did_not_make_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert "no simulation made it" in _refused("--workdir", str(tmp_path)).stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_ledger_that_holds_data_is_refused(tmp_path: Path, sqlite_url: str) -> None:
    from reminder_pipeline_tests.ingestion.helpers import write_csv

    upgrade_ledger(sqlite_url)
    customers = write_csv(tmp_path / "customers.csv", "customer_id,email\nC1,c1@example.com")
    command = [sys.executable, "-m", "reminder_pipeline.cli", "ingest", "--file", str(customers)]
    ingested = subprocess.run(
        [*command, "--entity", "customers", "--db", sqlite_url],
        capture_output=True,
        check=False,
    )
    assert ingested.returncode == 0
    assert "holds 1 customers" in _refused("--db", sqlite_url, "--workdir", str(tmp_path / "sim")).stderr


@pytest.mark.parametrize("url", ["sqlit:///x.sqlite", "postgresql+psycopg2://postgres@127.0.0.1:1/none"])
def test_a_bad_database_url_is_one_line(tmp_path: Path, url: str) -> None:
    assert "ledger" in _refused("--db", url, "--workdir", str(tmp_path / "sim")).stderr
    assert not (tmp_path / "sim").exists()


def test_several_seeds_give_ranges(tmp_path: Path) -> None:
    run = simulate(tmp_path / "simulation", "--days", "5", "--customers", "80", "--seeds", "2", "--seed", "4")
    assert run.result["seeds"] == [4, 5]
    assert (tmp_path / "simulation" / "seed-5" / "sandbox_messages.json").is_file()
    pipeline = run.result["collection"]["ranges"]["pipeline"]["collected_usd"]
    values = [
        run.result["collection"]["pipeline"]["collected_usd"],
        run.result["runs"][0]["collection"]["pipeline"]["collected_usd"],
    ]
    assert pipeline == [min(values), max(values)]
