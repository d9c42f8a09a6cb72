"""The issue's check in CI: ``reminders simulate --days 60 --customers N --faults heavy --json`` keeps every
promise — by the independent audit of the ledger and the provider's log — and loses nothing.

The issue names 5,000 customers; that run takes 5 min 20 s–5 min 40 s on this project's 2-core machine
(shared, load average 3–5), so CI runs the largest world that fits about 3 minutes there, 2,500
customers (3 min 18 s). The 5,000-customer run is the documented command in the README.
"""

from __future__ import annotations

from pathlib import Path

from reminder_pipeline.simulation.report import VIOLATIONS
from reminder_pipeline_tests.simulation.conftest import simulate

DAYS, CUSTOMERS = "60", "2500"


def test_sixty_days_under_heavy_faults_keep_every_promise(tmp_path: Path) -> None:
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
