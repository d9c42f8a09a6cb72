"""What CI runs: ``make test``, then the full-size simulation that ``make test`` leaves out."""

from __future__ import annotations

import subprocess
import sys

from reminder_pipeline_tests.conftest import PROJECT

HEAVY = "reminder_pipeline_tests/simulation/test_heavy_simulation.py"


def _collected(*args: str) -> list[str]:
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args, HEAVY],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )
    return [line for line in completed.stdout.splitlines() if line.startswith(HEAVY + "::")]


def test_make_test_leaves_the_full_size_simulation_out_and_simulation_check_runs_only_it() -> None:
    assert _collected() == []
    assert len(_collected("-m", "ci_simulation")) == 1


def test_ci_runs_make_test_and_then_the_simulation_check() -> None:
    steps = [line for line in (PROJECT / ".ci" / "run").read_text().splitlines() if line.startswith("make ")]
    assert steps == ["make test", "make simulation-check"]
    makefile = (PROJECT / "Makefile").read_text()
    assert "simulation-check: setup\n\t$(RUN) pytest -m ci_simulation" in makefile
