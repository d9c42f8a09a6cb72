"""The issue's check in CI: ``reminders simulate --days 40 --customers 1000 --faults heavy --json`` keeps every
promise — by the independent audit of the ledger and the provider's log — and loses nothing.

The issue names 60 days and 5,000 customers; that run took 5 min 20 s–5 min 40 s on this project's 2-core
machine, and 10 min 34 s with the statement run on a slower one (2026-12-01, every counter 0, in the README),
more than the test suite can spend on one test, so CI runs a smaller world with every heavy fault
(two killed delivery runs, two database restarts on PostgreSQL's runs, a three-day outage, provider errors,
timeouts, lost and duplicated webhooks): 40 days × 1,500 customers took 4 min 16 s in the whole suite on the
slower machine, so CI runs 1,000 (the faults are per day and per run, not per customer).
The 60-day, 5,000-customer run is the documented command in the README.
"""

from __future__ import annotations

from pathlib import Path

from reminder_pipeline.simulation.report import VIOLATIONS
from reminder_pipeline_tests.simulation.conftest import simulate

DAYS, CUSTOMERS = "40", "1000"


def test_forty_days_under_heavy_faults_keep_every_promise(tmp_path: Path) -> None:
    run = simulate(tmp_path / "simulation", "--days", DAYS, "--customers", CUSTOMERS, "--faults", "heavy")
    counters = run.counters
    assert {name: counters[name] for name in VIOLATIONS} == dict.fromkeys(VIOLATIONS, 0), run.result["audit"]
    assert counters["lost_rows"] == 0
    assert run.result["customers"] == int(CUSTOMERS)
    assert counters["sent"] > int(CUSTOMERS)
    books = run.result["bookkeeping"]
    assert books["faults"]["kill_delivery_killed_mid_batch"] == 2
    assert books["days"]["backfilled"] == 3
    assert books["delivery"]["retried"] > 0
