"""The issue's check in CI: ``reminders simulate --days 60 --customers 5000 --faults heavy --json`` keeps every
promise — by the independent audit of the ledger and the provider's log — and loses nothing."""

from __future__ import annotations

from pathlib import Path

from reminder_pipeline.simulation.report import VIOLATIONS
from reminder_pipeline_tests.simulation.conftest import simulate

DAYS, CUSTOMERS = "60", "5000"


def test_sixty_days_of_five_thousand_customers_under_heavy_faults(tmp_path: Path) -> None:
    run = simulate(tmp_path / "simulation", "--days", DAYS, "--customers", CUSTOMERS, "--faults", "heavy")
    counters = run.counters
    assert {name: counters[name] for name in VIOLATIONS} == dict.fromkeys(VIOLATIONS, 0), run.result["audit"]
    assert counters["lost_rows"] == 0
    assert run.result["customers"] == int(CUSTOMERS)
    assert counters["sent"] > 5000
    books = run.result["bookkeeping"]
    assert books["faults"]["kill_delivery_killed_mid_batch"] == 2
    assert books["days"]["backfilled"] == 3
    assert books["delivery"]["retried"] > 0
