"""``reminders listen`` as a process against the real RabbitMQ: killed mid-batch, stopped, the broker restarted.

Every payment published is in the ledger exactly once afterwards (counted against the distinct
``payment_id`` values published, duplicates among them), and a clean stop leaves every message
either applied and acknowledged or back on the queue.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.ledger.schema import inbound_events, payments
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.broker_queues import payment_body, publish_all, take_dead_letters
from reminder_pipeline.listening.broker_settings import BrokerSettings
from reminder_pipeline_tests.delivery.crowd import people, written_day
from reminder_pipeline_tests.delivery.helpers import statuses
from reminder_pipeline_tests.listening.rabbitmq import fresh_queues, require_rabbitmq

PROJECT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 180.0
CUSTOMERS = 40
PAYMENTS = 2000


@pytest.fixture
def queues() -> Iterator[BrokerSettings]:
    with fresh_queues() as settings:
        yield settings


def eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not after {WAIT_SECONDS:.0f} s")
        time.sleep(0.05)


def messages_in(queue: str) -> int:
    """Messages the broker holds for ``queue``: ready and handed to a consumer but not acknowledged."""
    listed = subprocess.run(
        ["rabbitmqctl", "list_queues", "--quiet", "--no-table-headers", "name", "messages"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    counts = dict(line.split("\t") for line in listed.splitlines() if "\t" in line)
    return int(counts.get(queue, 0))


@pytest.fixture
def spawn(ledger: Ledger, queues: BrokerSettings, tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[str]]]:
    """Starts ``reminders listen`` processes on the test's ledger and queue; any left running are killed after."""
    started: list[subprocess.Popen[str]] = []
    command = [sys.executable, "-m", "reminder_pipeline.cli", "listen", "--db", ledger.url, "--queue", queues.queue]

    def start() -> subprocess.Popen[str]:
        with (tmp_path / "listen.log").open("a") as log:
            process = subprocess.Popen(
                [*command, "--json"], cwd=PROJECT, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=log, text=True
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=WAIT_SECONDS)


def stop(process: subprocess.Popen[str]) -> dict[str, object]:
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=WAIT_SECONDS)
    assert process.returncode == 0, "SIGTERM is a clean stop"
    summary: dict[str, object] = json.loads(out)
    return summary


def inbox_count(ledger: Ledger) -> int:
    with ledger.begin() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(inbound_events).where(inbound_events.c.source == "broker")
            ).scalar_one()
        )


def inbox_statuses(ledger: Ledger) -> dict[str, int]:
    with ledger.begin() as connection:
        found = connection.execute(
            select(inbound_events.c.status, func.count())
            .where(inbound_events.c.source == "broker")
            .group_by(inbound_events.c.status)
        ).all()
    return {status: int(count) for status, count in found}


def publish_payments(ledger: Ledger, folder: Path, settings: BrokerSettings, duplicates: int) -> list[str]:
    """``PAYMENTS`` distinct payments of 1.00 over ``CUSTOMERS`` invoices, ``duplicates`` of them published twice."""
    written_day(ledger, folder, people(CUSTOMERS))
    ids = [f"P-{n:05d}" for n in range(PAYMENTS)]
    bodies = [
        payment_body(
            {
                "payment_id": payment_id,
                "invoice_id": f"INV-C{n % CUSTOMERS + 1:05d}",
                "amount": "1.00",
                "currency": "EUR",
                "paid_at": "2026-03-10T09:30:00Z",
            }
        )
        for n, payment_id in enumerate(ids)
    ]
    shuffled = random.Random(11)
    repeated = [*bodies, *shuffled.sample(bodies, duplicates)]
    shuffled.shuffle(repeated)
    publish_all(settings, repeated)
    return ids


def ledger_payments(ledger: Ledger) -> list[tuple[str, int]]:
    with ledger.begin() as connection:
        return [tuple(r) for r in connection.execute(select(payments.c.payment_id, payments.c.amount_minor)).all()]


def test_killing_the_listener_mid_batch_and_restarting_the_broker_loses_no_payment_and_applies_none_twice(
    ledger: Ledger, tmp_path: Path, queues: BrokerSettings, spawn: Callable[[], subprocess.Popen[str]]
) -> None:
    ids = publish_payments(ledger, tmp_path, queues, duplicates=300)
    first = spawn()
    eventually(lambda: inbox_count(ledger) >= 300, "the first listener applied a few batches")
    first.kill()
    first.wait(timeout=WAIT_SECONDS)
    applied_before_the_kill = inbox_count(ledger)
    assert applied_before_the_kill < PAYMENTS, "killed mid-stream"
    for step in ("stop_app", "start_app"):
        subprocess.run(["rabbitmqctl", step], check=True, capture_output=True, timeout=180)
    require_rabbitmq(queues)
    second = spawn()
    eventually(lambda: inbox_count(ledger) == PAYMENTS, "every payment in the inbox")
    eventually(lambda: messages_in(queues.queue) == 0, "every message acknowledged")
    stop(second)
    recorded = ledger_payments(ledger)
    assert sorted(p for p, _ in recorded) == ids, "each published payment_id recorded exactly once"
    assert sum(amount for _, amount in recorded) == PAYMENTS * 100
    assert inbox_statuses(ledger) == {"processed": PAYMENTS}
    assert take_dead_letters(queues) == []
    assert statuses(ledger) == {OutboxStatus.CANCELLED: CUSTOMERS}


def test_a_listener_stopped_by_sigterm_finishes_what_it_holds_and_hands_back_the_rest(
    ledger: Ledger, tmp_path: Path, queues: BrokerSettings, spawn: Callable[[], subprocess.Popen[str]]
) -> None:
    publish_payments(ledger, tmp_path, queues, duplicates=0)
    process = spawn()
    eventually(lambda: inbox_count(ledger) >= 200, "the listener applied a few batches")
    summary = stop(process)
    applied = inbox_count(ledger)
    assert applied < PAYMENTS, "stopped mid-stream"
    assert summary["messages"] == applied == len(ledger_payments(ledger))
    assert applied + messages_in(queues.queue) == PAYMENTS, "every message applied or back on the queue"
