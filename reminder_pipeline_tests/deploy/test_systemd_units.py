"""Every long-running process of the product has a systemd unit, and the units of ``reminders serve`` and
``reminders listen`` work as written: their own ``ExecStart`` (only the install folder, host and port
replaced) starts, does its job against a fresh ledger and the real RabbitMQ, and stops on systemd's
default signal (SIGTERM) within seconds."""

from __future__ import annotations

import shlex
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reminder_pipeline.ledger.store import upgrade_ledger
from reminder_pipeline.listening.broker_queues import payment_body, publish_all, queue_depth
from reminder_pipeline.listening.broker_settings import AMQP_URL_ENV, QUEUE_ENV, BrokerSettings
from reminder_pipeline_tests.deploy.files import DEPLOY
from reminder_pipeline_tests.deploy.processes import BIN, clean_environment, free_port, wait_for
from reminder_pipeline_tests.listening.rabbitmq import fresh_queues

UNITS = DEPLOY / "systemd"
INSTALLED = "/opt/reminder_pipeline"
PROCESSES = {"code": "dagster", "daemon": "dagster-daemon", "webserver": "dagster-webserver"} | {
    "serve": "reminders",
    "listen": "reminders",
}
STOP_SECONDS = 5.0
pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def _service(name: str) -> dict[str, str]:
    """The ``[Service]`` section of ``reminders-<name>.service`` (each key once)."""
    found, section = {}, ""
    for raw in (UNITS / f"reminders-{name}.service").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif line and not line.startswith(("#", ";")) and section == "Service":
            key, value = line.split("=", 1)
            found[key] = value
    return found


def _command(name: str, **options: str) -> list[str]:
    words = [w.replace(f"{INSTALLED}/.venv/bin", str(BIN)) for w in shlex.split(_service(name)["ExecStart"])]
    for option, value in options.items():
        words[words.index(f"--{option}") + 1] = value
    return words


def _stopped_by_sigterm(process: subprocess.Popen[bytes]) -> float:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(STOP_SECONDS) == 0
    finally:
        if process.poll() is None:
            process.kill()
    return time.monotonic() - started


def test_every_long_running_process_has_a_unit_run_from_the_install_with_the_shared_environment() -> None:
    assert {p.name for p in UNITS.glob("*.service")} == {f"reminders-{name}.service" for name in PROCESSES}
    for name, program in PROCESSES.items():
        service = _service(name)
        started = next(w for w in shlex.split(service["ExecStart"]) if "/.venv/bin/" in w)  # after env, if any
        assert started == f"{INSTALLED}/.venv/bin/{program}", name
        assert service["EnvironmentFile"] == "/etc/reminders/env", name
        assert service["WorkingDirectory"] == INSTALLED, name
        assert service["Restart"] == "always", name


def test_the_serve_unit_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    upgrade_ledger(url)
    port = free_port()
    command = _command("serve", host="127.0.0.1", port=str(port))
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=clean_environment({"REMINDERS_DB_URL": url}), stdout=output, stderr=output
        )
    try:

        def healthy() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for("reminders serve to answer /healthz", healthy, 60, logs=tmp_path)
    except BaseException:
        process.kill()
        raise
    assert _stopped_by_sigterm(process) < STOP_SECONDS


@pytest.fixture
def queue() -> Iterator[BrokerSettings]:
    with fresh_queues() as settings:
        yield settings


def test_the_listen_unit_takes_payments_from_the_queue_and_stops_on_sigterm(
    tmp_path: Path, queue: BrokerSettings
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    upgrade_ledger(url)
    body = {"payment_id": "P-unit", "invoice_id": "INV-unknown", "amount": "10.00", "currency": "EUR"}
    publish_all(queue, [payment_body(body | {"paid_at": "2026-03-10T09:00:00+00:00"})])
    assert queue_depth(queue) == 1
    environment = {"REMINDERS_DB_URL": url, AMQP_URL_ENV: queue.amqp_url, QUEUE_ENV: queue.queue}
    with (tmp_path / "listen.log").open("wb") as output:
        process = subprocess.Popen(_command("listen"), env=clean_environment(environment), stdout=output, stderr=output)
    try:
        wait_for("the payment to be taken from the queue", lambda: queue_depth(queue) == 0, 60, logs=tmp_path)
    except BaseException:
        process.kill()
        raise
    assert _stopped_by_sigterm(process) < STOP_SECONDS
