"""``reminders deliver`` as separate processes, the way operators and Dagster runs start them."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime

from reminder_pipeline.providers.settings import sandbox_environment

LINK_SECRET = "a-delivery-worker-test-secret-0123456789"


def environment(sandbox_url: str) -> dict[str, str]:
    variables = {**os.environ, **sandbox_environment(sandbox_url), "REMINDERS_LINK_SECRET": LINK_SECRET}
    variables["NO_PROXY"] = "127.0.0.1,localhost"
    for name in ("TWILIO_REGION", "TWILIO_EDGE"):
        variables.pop(name, None)
    return variables


def command(db_url: str, at: datetime, *options: str, channel: str = "email") -> list[str]:
    return [
        sys.executable,
        "-m",
        "reminder_pipeline.cli",
        "deliver",
        "--db",
        db_url,
        "--channel",
        channel,
        "--at",
        at.isoformat(timespec="seconds"),
        "--json",
        *options,
    ]


def start(db_url: str, at: datetime, sandbox_url: str, *options: str, channel: str = "email") -> subprocess.Popen[str]:
    return subprocess.Popen(
        command(db_url, at, *options, channel=channel),
        env=environment(sandbox_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(
    db_url: str, at: datetime, sandbox_url: str, *options: str, channel: str = "email"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(db_url, at, *options, channel=channel),
        env=environment(sandbox_url),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
