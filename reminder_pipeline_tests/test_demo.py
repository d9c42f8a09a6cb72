"""`reminders demo` end to end, then `dagster dev` showing what the demo materialized."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from reminder_pipeline import settings
from reminder_pipeline.demo import DemoPlan
from reminder_pipeline_tests.conftest import PROJECT

ASSETS_QUERY = """
{ assetsOrError { ... on AssetConnection { nodes { key { path }
    assetMaterializations(limit: 100) { partition runId } } } } }
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _graphql(port: int, query: str) -> dict[str, object]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def _env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    workdir = tmp_path_factory.mktemp("demo")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "reminder_pipeline.cli",
            "demo",
            "--workdir",
            str(workdir),
            "--invoices",
            "1500",
            "--days",
            "15",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return workdir, completed.stdout


def test_the_demo_summarises_the_ledger(demo: tuple[Path, str]) -> None:
    workdir, output = demo
    assert output.count("15 business days materialized") == 3, "customers, invoices, payments: every day"
    assert output.count(" 7 business days materialized") == 5, "features, scores, segments, plan, messages: a week"
    assert "risk_model" in output
    assert "scored by rule" in output, "fifteen days are too few to validate a model: the rule score stands in"
    assert "customers per band" in output
    assert "Quarantined rows by reason" in output
    assert "invalid_currency" in output
    assert "one decision per customer" in output
    assert "skipped because: " in output
    assert "messages written for" in output
    assert (workdir / "ledger.sqlite").exists()
    assert "DAGSTER_HOME" in _env_file(workdir / "demo.env")


def test_dagster_dev_displays_the_demo_materializations(demo: tuple[Path, str]) -> None:
    workdir, _ = demo
    port = _free_port()
    env = {**os.environ, **_env_file(workdir / "demo.env")}
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-m", "reminder_pipeline.definitions", "-p", str(port)],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline, result = time.monotonic() + 180, None
        while time.monotonic() < deadline:
            try:
                result = _graphql(port, ASSETS_QUERY)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(2)
        assert result is not None, "dagster dev did not answer within 180 s"
        nodes = {"/".join(n["key"]["path"]): n for n in result["data"]["assetsOrError"]["nodes"]}  # type: ignore[index]
        expected = {"customers": 15, "invoices": 15, "payments": 15, "customer_features": 7, "risk_scores": 7}
        week = {"customer_segments": 7, "reminder_plan": 7, "rendered_messages": 7}
        for asset, days in {**expected, **week}.items():
            partitions = {m["partition"] for m in nodes[asset]["assetMaterializations"]}
            assert len(partitions) == days, (asset, partitions)
        assert nodes["risk_model"]["assetMaterializations"], "the model step ran (and warned: too little history)"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_the_demo_uses_its_own_ledger_and_drop_folder_whatever_the_shell_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(settings.DB_URL_ENV, "postgresql+psycopg2://prod@db.example.com/ledger")
    monkeypatch.setenv(settings.SOURCE_CONFIG_ENV, "/etc/reminders/source.yaml")
    plan = DemoPlan(tmp_path, invoices=100, days=3, seed=1, end=date(2026, 3, 3))
    environment = plan.environment()
    assert environment[settings.DB_URL_ENV] == f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    assert settings.SOURCE_CONFIG_ENV not in environment
    assert environment[settings.DROP_DIR_ENV] == str(tmp_path / "drop")
    tmp_path.mkdir(exist_ok=True)
    written = _env_file(plan.write_env_file())
    assert written[settings.DB_URL_ENV] == plan.ledger_url
    assert written[settings.SOURCE_CONFIG_ENV] == ""
