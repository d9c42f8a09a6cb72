"""``reminders simulate --policy FILE``: a bad file is refused before anything starts, with what is wrong in it;
the file given is the policy the simulation follows (its plans, the result's ``policy``), not the shipped one."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from reminder_pipeline.cli import main
from reminder_pipeline.config_files import DEFAULT_POLICY
from reminder_pipeline_tests.simulation.conftest import simulate

NO_COURTESY_VERSION = "test-no-courtesy"


def _shipped() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    return loaded


def _written(path: Path, policy: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
    return path


def test_a_bad_policy_file_is_refused_with_its_message_before_anything_starts(tmp_path: Path) -> None:
    policy = _shipped()
    policy["contact"]["weekly_cap"] = "many"
    bad = _written(tmp_path / "policy.yaml", policy)
    workdir = tmp_path / "simulation"
    arguments = ["simulate", "--days", "2", "--customers", "20", "--workdir", str(workdir), "--policy", str(bad)]
    result = CliRunner().invoke(main, [*arguments, "--json"])
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert str(bad) in error
    assert "weekly_cap" in error
    assert result.stderr == f"error: {error}\n"
    assert not workdir.exists(), "nothing was simulated"


def test_the_policy_given_is_the_one_the_simulation_follows(tmp_path: Path) -> None:
    """Ladders without a step before the due date: no courtesy note is planned (the shipped policy plans 16 in
    this world), and every row of the outbox carries the given policy's version."""
    policy = _shipped() | {"version": NO_COURTESY_VERSION}
    for ladder in policy["ladders"].values():
        ladder["steps"] = [step for step in ladder["steps"] if step["offset_days"] >= 0]
    path = _written(tmp_path / "no-courtesy.yaml", policy)
    run = simulate(tmp_path / "simulation", "--days", "9", "--customers", "150", "--seed", "21", "--policy", str(path))
    assert run.result["policy"] == {"path": str(path.resolve()), "version": NO_COURTESY_VERSION}
    with sqlite3.connect(run.workdir / "ledger.sqlite") as ledger:
        steps = ledger.execute(
            "SELECT count(*), coalesce(sum(offset_days < 0), 0) FROM outbox WHERE ladder != 'statement'"
        ).fetchone()
        versions = {row[0] for row in ledger.execute("SELECT DISTINCT policy_version FROM outbox")}
    assert steps[0] > 0, "the ladders planned steps"
    assert steps[1] == 0, "none before the due date"
    assert versions == {NO_COURTESY_VERSION}
