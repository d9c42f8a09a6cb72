"""``reminders serve --workers 2`` on PostgreSQL with no session secret set: a session opened on one worker
opens the dashboard on every worker (they share one secret made for the run), however the requests are
spread. A real server in its own processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.web.dashboard.auth import SESSION_COOKIE
from reminder_pipeline_tests.web.dashboard.attacks import try_login
from reminder_pipeline_tests.web.dashboard.conftest import PASSWORD, seed
from reminder_pipeline_tests.web.server import free_port, wait_healthy


@pytest.mark.timeout(180)
@pytest.mark.parametrize("ledger_url", ["postgresql"], indirect=True)
def test_a_session_opens_the_dashboard_on_every_worker(ledger: Ledger, tmp_path: Path) -> None:
    seed(ledger, tmp_path)
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SENDGRID_", "REMINDERS_"))}
    environment |= {"REMINDERS_HOME": str(tmp_path / "home"), "REMINDERS_COOKIE_SECURE": "false"}
    command = [sys.executable, "-m", "reminder_pipeline.cli", "serve", "--port", str(port), "--db", ledger.url]
    process = subprocess.Popen(
        [*command, "--workers", "2"], env=environment, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        with httpx.Client(base_url=url, timeout=30) as client:
            assert try_login(client, "cora", PASSWORD).status_code == 303
            cookie = client.cookies[SESSION_COOKIE]
        fresh_connections = httpx.Limits(max_keepalive_connections=0)
        answers = []
        for _ in range(30):
            with httpx.Client(base_url=url, timeout=30, limits=fresh_connections) as one:
                one.cookies.set(SESSION_COOKIE, cookie)
                answers.append(one.get("/worklist", follow_redirects=False).status_code)
        assert answers == [200] * 30
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        _, errors = process.communicate()
    assert errors.count("Started server process") == 2
