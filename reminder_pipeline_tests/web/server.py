"""The web app on a real uvicorn server in a thread, on a free loopback port; or ``reminders serve`` in a
process of its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

import httpx
import uvicorn
from starlette.applications import Starlette

STARTUP_SECONDS = 90


class RunningApp:
    """``with RunningApp(app) as running:`` serves ``app`` at ``running.url`` until the block ends."""

    def __init__(self, app: Starlette) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> RunningApp:
        self.thread.start()
        for _ in range(400):
            if self.server.started:
                return self
            if not self.thread.is_alive():
                break
            time.sleep(0.025)
        raise RuntimeError("the web app did not start")

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.socket.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def start_serve(ledger_url: str, home: Path, payment_secret: str, port: int, *options: str) -> subprocess.Popen[str]:
    """``reminders serve`` on ``port`` with only the payment webhook's secret set (stderr captured)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SENDGRID_", "REMINDERS_"))} | {
        "REMINDERS_PAYMENT_WEBHOOK_SECRET": payment_secret,
        "REMINDERS_HOME": str(home),
    }
    command = [sys.executable, "-m", "reminder_pipeline.cli", "serve", "--port", str(port), "--db", ledger_url]
    return subprocess.Popen([*command, *options], env=environment, stderr=subprocess.PIPE, text=True)


def wait_healthy(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"reminders serve did not come up (exit code {process.poll()})")
