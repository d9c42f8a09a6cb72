"""``reminders sandbox`` as its own process: it prints its URL, answers both SDKs and /sandbox, stops on SIGTERM."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reminder_pipeline.providers.base import SendOutcome
from reminder_pipeline.providers.sandbox import SandboxControl
from reminder_pipeline.providers.sandbox.signing import KEY_FILE_NAME
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS, sandbox_environment
from reminder_pipeline_tests.providers.helpers import email, sendgrid_at, sms, twilio_at
from reminder_pipeline_tests.providers.sandbox.receiver import receiving

URL = re.compile(r"http://127\.0\.0\.1:\d+")
STARTUP_SECONDS = 60


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "reminder_pipeline.cli", "sandbox", *args]


def _environment(tmp_path: Path) -> dict[str, str]:
    """No provider settings: the sandbox takes the demo credentials."""
    names = set(sandbox_environment("http://x"))
    clean = {k: v for k, v in os.environ.items() if k not in names}
    return {**clean, "REMINDERS_HOME": str(tmp_path / "home")}


def _first_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            return process.stdout.readline()
        if process.poll() is not None:
            break
    raise AssertionError(f"the sandbox printed no line (exit code {process.poll()})")


@contextmanager
def _sandbox_process(tmp_path: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    process = subprocess.Popen(
        _command("--port", "0", *args), stdout=subprocess.PIPE, text=True, env=_environment(tmp_path)
    )
    try:
        line = _first_line(process)
        match = URL.search(line)
        assert match, line
        yield match.group(0), process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_the_command_serves_both_apis_and_the_message_log_until_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "journal.jsonl"
    with _sandbox_process(tmp_path, "--log", str(log)) as (url, process):
        assert sendgrid_at(url).send(email("rk-email")).outcome is SendOutcome.ACCEPTED
        assert twilio_at(url).send(sms("rk-sms")).outcome is SendOutcome.ACCEPTED
        with urllib.request.urlopen(f"{url}/sandbox/messages", timeout=10) as response:
            log_now = json.loads(response.read())
        assert [(m["channel"], m["reminder_key"]) for m in log_now] == [("email", "rk-email"), ("sms", "rk-sms")]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert [json.loads(line)["reminder_key"] for line in log.read_text().splitlines()] == ["rk-email", "rk-sms"]
    with _sandbox_process(tmp_path, "--log", str(log)) as (url, process):
        assert [m["reminder_key"] for m in SandboxControl(url).messages()] == ["rk-email", "rk-sms"]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0


def test_the_command_takes_faults_and_keeps_its_log_in_the_data_dir_by_default(tmp_path: Path) -> None:
    with _sandbox_process(tmp_path, "--faults", "sms_error_21610=1") as (url, process):
        assert SandboxControl(url).faults() == "sms_error_21610=1"
        assert twilio_at(url).send(sms()).outcome is SendOutcome.REJECTED
        assert sendgrid_at(url).send(email("rk-default")).outcome is SendOutcome.ACCEPTED
        process.terminate()
        process.wait(timeout=30)
    default_log = tmp_path / "home" / "sandbox" / "messages.jsonl"
    assert [json.loads(line)["reminder_key"] for line in default_log.read_text().splitlines()] == ["rk-default"]


def test_the_command_accepts_the_credentials_in_its_environment(tmp_path: Path) -> None:
    environment = {**_environment(tmp_path), "SENDGRID_API_KEY": "SG.from-the-environment"}
    process = subprocess.Popen(_command("--port", "0"), stdout=subprocess.PIPE, text=True, env=environment)
    try:
        url = URL.search(_first_line(process))
        assert url
        assert (
            sendgrid_at(url.group(0), api_key="SG.from-the-environment").send(email()).outcome is SendOutcome.ACCEPTED
        )
        refused = sendgrid_at(url.group(0), api_key=DEMO_CREDENTIALS.sendgrid_api_key).send(email())
        assert (refused.outcome, refused.http_status) == (SendOutcome.REJECTED, 401)
    finally:
        process.kill()
        process.wait()


def test_a_bad_fault_spec_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    result = subprocess.run(
        _command("--faults", "bogus=1"), capture_output=True, text=True, env=_environment(tmp_path), timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "unknown fault 'bogus'" in result.stderr


def test_the_command_posts_signed_events_to_its_events_url_and_prints_the_public_key(tmp_path: Path) -> None:
    with (
        receiving() as receiver,
        _sandbox_process(
            tmp_path, "--log", str(tmp_path / "journal.jsonl"), "--sendgrid-events-url", receiver.url("/events")
        ) as (url, process),
    ):
        assert process.stdout is not None
        key_line = process.stdout.readline()  # printed with the first line, so already read into the buffer
        assert key_line.startswith("event webhook public key: ")
        public_key = key_line.removeprefix("event webhook public key: ").strip()
        assert SandboxControl(url).webhook_public_key() == public_key
        assert sendgrid_at(url).send(email("rk-cli")).outcome is SendOutcome.ACCEPTED
        SandboxControl(url).wait_for_webhooks()
        process.terminate()
        process.wait(timeout=30)
    batches = receiver.on("/events")
    assert batches
    assert all(batch.sendgrid_signed(public_key) for batch in batches)
    assert [e["event"] for b in batches for e in b.events()] == ["processed", "delivered"]
    assert (tmp_path / KEY_FILE_NAME).exists()


def test_a_webhook_url_that_is_not_http_is_refused_before_serving(tmp_path: Path) -> None:
    result = subprocess.run(
        _command("--sendgrid-events-url", "ftp://x/events"),
        capture_output=True,
        text=True,
        env=_environment(tmp_path),
        timeout=120,
    )
    assert result.returncode == 2
    assert "not an http(s) URL" in result.stderr
