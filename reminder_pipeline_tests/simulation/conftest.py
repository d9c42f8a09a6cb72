"""Simulations run as a user runs them: ``reminders simulate`` in its own process, its JSON on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reminder_pipeline import settings

FAULTY = ("--days", "16", "--customers", "600", "--faults", "heavy", "--seed", "3")
"""Heavy faults (on SQLite: every one but the database restart) with a 3-day outage and two killed runs."""


@dataclass(frozen=True)
class Run:
    workdir: Path
    result: dict[str, Any]
    stderr: str
    stdout: str

    @property
    def counters(self) -> dict[str, int]:
        counters: dict[str, int] = self.result["counters"]
        return counters

    def messages(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = json.loads((self.workdir / "sandbox_messages.json").read_text())
        return found


def simulate(workdir: Path, *args: str, timeout: float = 900) -> Run:
    """``reminders simulate ... --workdir WORKDIR --json``; fails the test unless it exits 0."""
    environment = {k: v for k, v in os.environ.items() if k != settings.DB_URL_ENV}
    command = [sys.executable, "-m", "reminder_pipeline.cli", "simulate", *args, "--workdir", str(workdir), "--json"]
    completed = subprocess.run(command, capture_output=True, text=True, check=False, env=environment, timeout=timeout)
    assert completed.returncode == 0, completed.stderr[-5000:]
    return Run(workdir, json.loads(completed.stdout), completed.stderr, completed.stdout)


@pytest.fixture(scope="session")
def faulty_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return simulate(tmp_path_factory.mktemp("faulty") / "simulation", *FAULTY)
