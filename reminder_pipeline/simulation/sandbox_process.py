"""The provider sandbox as its own process, ``reminders sandbox``, as a deployment would run it.

It serves Twilio's and SendGrid's APIs and posts their webhooks from a process of its own (on the other
core), driven over HTTP (``/sandbox/clock``, ``/sandbox/webhooks``, ``/sandbox/inbound``). What it
accepted is read from its journal (``sandbox.jsonl``, one JSON line per message, written and fsynced
before a send is answered), so the simulation sees every accepted message as soon as its send returns.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reminder_pipeline.providers import settings
from reminder_pipeline.providers.sandbox import SandboxControl

PROVIDER_VARIABLES = (
    settings.SENDGRID_API_KEY_ENV,
    settings.TWILIO_ACCOUNT_SID_ENV,
    settings.TWILIO_AUTH_TOKEN_ENV,
)
"""Unset for the sandbox, so that it takes the demo credentials the simulation's clients use."""
START_SECONDS = 60.0
STOP_SECONDS = 30.0


@dataclass
class Journal:
    """The sandbox's journal, read on from where the last read stopped (complete lines only)."""

    path: Path
    offset: int = 0
    count: int = 0
    _partial: bytes = field(default=b"", repr=False)

    def read_new(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read()
        self.offset += len(chunk)
        data = self._partial + chunk
        *lines, self._partial = data.split(b"\n")
        records = [json.loads(line) for line in lines if line.strip()]
        self.count += len(records)
        return records

    def accepted(self) -> int:
        """How many messages the journal holds so far."""
        return self.count + len(self.read_new())


@dataclass(frozen=True)
class SandboxProcess:
    url: str
    control: SandboxControl
    journal_path: Path


def stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM, as a deploy stops a process; killed if it has not ended within ``STOP_SECONDS``."""
    process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


@contextmanager
def sandbox_process(faults: str, journal: Path, log: Path) -> Iterator[SandboxProcess]:
    """``reminders sandbox --port 0`` with ``faults``, until the block ends (then SIGTERM, as a deploy stops it)."""
    environment = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARIABLES}
    command = [sys.executable, "-m", "reminder_pipeline.cli", "sandbox", "--port", "0", "--faults", faults]
    command += ["--log", str(journal)]
    with log.open("ab") as errors:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            command, stdout=subprocess.PIPE, stderr=errors, env=environment, text=True
        )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if not first.startswith("sandbox listening on "):
            raise RuntimeError(f"the sandbox did not start (see {log}): {first.strip()!r}")
        url = first.removeprefix("sandbox listening on ").split(" ", 1)[0]
        control = SandboxControl(url)
        control.wait_until_ready(START_SECONDS)
        yield SandboxProcess(url, control, journal)
    finally:
        stop(process)
