"""Starting and stopping the product's processes in tests: each with its own log file, stopped by its own id."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

BIN = Path(sys.executable).parent
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """The test's environment without the product's or Dagster's own settings, plus ``extra``."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("REMINDERS_", "DAGSTER_", "SENDGRID_", "TWILIO_"))}
    return kept | dict(extra)


@contextmanager
def running(name: str, args: list[str], env: Mapping[str, str], logs: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``args`` (a program in the environment's bin folder) until the block ends; then SIGTERM, and SIGKILL
    after 30 s. Output goes to ``logs/<name>.log``."""
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / f"{name}.log").open("wb") as log:
        process = subprocess.Popen([str(BIN / args[0]), *args[1:]], env=dict(env), stdout=log, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    return int(process.returncode)


def wait_for(what: str, check: Callable[[], T | None], timeout: float, logs: Path | None = None) -> T:
    """Poll ``check`` until it returns something truthy; fail with the logs' tails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    tails = ""
    if logs is not None:
        for path in sorted(logs.glob("*.log")):
            tails += f"\n--- {path.name} ---\n" + "\n".join(path.read_text(errors="replace").splitlines()[-25:])
    raise AssertionError(f"timed out waiting for {what}{tails}")


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0
