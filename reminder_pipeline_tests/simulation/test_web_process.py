"""The web app a simulation starts reads the simulation's policy file, not the shipped one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_web_process_reads_the_policy_it_is_given(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("version: [not, a, policy]\n", encoding="utf-8")
    command = [sys.executable, "-m", "reminder_pipeline.simulation.web_process"]
    command += ["--db", f"sqlite:///{tmp_path / 'ledger.sqlite'}", "--clock-file", str(tmp_path / "clock.json")]
    completed = subprocess.run(
        [*command, "--policy", str(bad)], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode != 0
    assert str(bad) in completed.stderr
    assert not completed.stdout.startswith("web app listening")
