"""The processes docs/screenshots.py starts: each in a process group of its own, so that stopping it stops its
children too (dagster-webserver's code server), with SIGTERM first and SIGKILL only if it will not stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

STARTUP_SECONDS = 300
STOP_SECONDS = 30


class ProcessFailed(RuntimeError):
    """A command failed or a server never answered; the message ends with the tail of its log."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tail(log: Path, lines: int = 30) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def run_checked(command: list[str], log: Path, cwd: Path, env: dict[str, str] | None = None) -> None:
    with log.open("w") as output:
        completed = subprocess.run(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, check=False)  # noqa: S603
    if completed.returncode != 0:
        raise ProcessFailed(f"{' '.join(command[1:4])} ... failed ({completed.returncode}):\n{_tail(log)}")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - a loopback URL of our own
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(process: subprocess.Popen[bytes]) -> str:
    """SIGTERM to the process group; SIGKILL to what is left of it after ``STOP_SECONDS``. Says which it took."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None and not _group_alive(process.pid):
            return "stopped by SIGTERM"
        time.sleep(0.1)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return f"still running {STOP_SECONDS} s after SIGTERM: killed"


@contextmanager
def serving(command: list[str], env: dict[str, str], cwd: Path, ready_url: str, log: Path) -> Iterator[None]:
    """Run a server until the block ends, once ``ready_url`` answers 200; stop it however the block ends."""
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 - a fixed command line of our own
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _answers(ready_url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise ProcessFailed(f"{Path(command[0]).name} did not start (see below):\n{_tail(log)}")
            time.sleep(0.2)
        yield
    finally:
        print(f"{Path(command[0]).name} {' '.join(command[1:3])}: {stop(process)}", flush=True)
