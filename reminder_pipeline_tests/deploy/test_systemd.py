"""The code server's systemd unit stops it cleanly within seconds. ``dagster api grpc`` (Dagster 1.13.27,
``dagster._utils.interrupts.setup_interrupt_handlers``) sets SIGTERM's handler to whatever SIGINT's is
when it starts: a process that inherited SIGINT ignored ignores SIGTERM too, and only SIGKILL ends it.
The unit resets SIGINT with ``env --default-signal=INT`` and stops with SIGINT. The tests run the
unit's own command line (only the install folder, host and port replaced), started with SIGINT ignored,
and send the unit's ``KillSignal``."""

from __future__ import annotations

import shlex
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reminder_pipeline_tests.conftest import PROJECT
from reminder_pipeline_tests.deploy.files import DEPLOY
from reminder_pipeline_tests.deploy.processes import BIN, clean_environment, free_port, port_open, wait_for

UNIT = DEPLOY / "systemd" / "reminders-code.service"
INSTALLED = "/opt/reminder_pipeline"
STOP_SECONDS = 5.0
pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def _unit(path: Path) -> dict[str, list[str]]:
    """``Section.Key`` -> its values in order (a key may repeat), as systemd reads a unit file."""
    found: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, value = line.split("=", 1)
        found.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return found


SERVICE = _unit(UNIT)


def _command(port: int) -> list[str]:
    """The unit's ExecStart for this checkout: its virtual environment, loopback and ``port``."""
    (line,) = SERVICE["Service.ExecStart"]
    words = [w.replace(f"{INSTALLED}/.venv/bin", str(BIN)) for w in shlex.split(line)]
    words[words.index("-h") + 1] = "127.0.0.1"
    words[words.index("-p") + 1] = str(port)
    return words


def _unit_environment() -> dict[str, str]:
    return dict(item.split("=", 1) for item in SERVICE.get("Service.Environment", []))


def _environment(home: Path) -> dict[str, str]:
    return clean_environment({"DAGSTER_HOME": str(home), **_unit_environment()})


def _sigint_ignored() -> None:
    """As a process started by a script's background job (or a supervisor that does so) begins."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def _code_server(command: list[str], home: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    home.mkdir(parents=True, exist_ok=True)
    with (home / "code-server.log").open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=PROJECT,
            env=_environment(home),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_sigint_ignored,
        )
        try:
            wait_for("the code server to listen", lambda: port_open(port) or process.poll() is not None, 90, home)
            assert process.poll() is None, (home / "code-server.log").read_text(errors="replace")
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(30)


def _kill_signal() -> signal.Signals:
    (name,) = SERVICE["Service.KillSignal"]
    return signal.Signals[name]


def test_the_unit_resets_sigint_stops_with_it_and_bounds_the_stop() -> None:
    command = shlex.split(SERVICE["Service.ExecStart"][0])
    assert command[:2] == ["/usr/bin/env", "--default-signal=INT"]
    assert command[2:5] == [f"{INSTALLED}/.venv/bin/dagster", "api", "grpc"]
    assert _kill_signal() is signal.SIGINT
    grace = int(_unit_environment()["DAGSTER_GRPC_SHUTDOWN_GRACE_PERIOD"])
    (timeout,) = SERVICE["Service.TimeoutStopSec"]
    assert grace + 5 < int(timeout), "dagster waits the grace period and 5 s more before it gives up on calls"
    assert Path(command[0]).is_file()


def test_the_units_command_stops_on_the_units_signal_within_seconds(tmp_path: Path) -> None:
    port = free_port()
    with _code_server(_command(port), tmp_path / "home", port) as process:
        sent = time.monotonic()
        process.send_signal(_kill_signal())
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the code server was still running {STOP_SECONDS} s after {_kill_signal().name}")
        took = time.monotonic() - sent
    assert process.returncode == 0, "a clean stop"
    assert took < STOP_SECONDS
    assert not port_open(port)


def test_without_the_reset_dagster_ignores_both_signals(tmp_path: Path) -> None:
    """Why the unit has ``env --default-signal=INT``: the same command without it, started the same way,
    outlives SIGTERM and SIGINT."""
    port = free_port()
    bare = _command(port)[2:]
    with _code_server(bare, tmp_path / "home", port) as process:
        for sent in (signal.SIGTERM, signal.SIGINT):
            process.send_signal(sent)
            with pytest.raises(subprocess.TimeoutExpired):
                process.wait(3)
            assert port_open(port), f"still serving after {sent.name}"
