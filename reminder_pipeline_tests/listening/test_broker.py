"""``reminders listen`` against the real RabbitMQ on this machine, on SQLite and PostgreSQL ledgers.

Each test has its own queues (deleted after). If the broker does not answer it is started; a test
never skips for want of it.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from sqlalchemy import select

from reminder_pipeline.core.outbox import OUTBOX_LOCK, OutboxStatus
from reminder_pipeline.delivery.service import deliver
from reminder_pipeline.ledger.schema import inbound_events, payments
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger
from reminder_pipeline.listening.broker import PaymentListener
from reminder_pipeline.listening.broker_batch import MessageOutcome
from reminder_pipeline.listening.broker_messages import parse_payment
from reminder_pipeline.listening.broker_queues import (
    payment_body,
    publish_all,
    queue_depth,
    take_dead_letters,
)
from reminder_pipeline.listening.broker_settings import BrokerSettings, broker_settings, safe_amqp_url
from reminder_pipeline.listening.payments import apply_payment
from reminder_pipeline.providers.sandbox import SandboxConfig, running_sandbox
from reminder_pipeline_tests.delivery.conftest import sendgrid_at
from reminder_pipeline_tests.delivery.crowd import SEND_AT, people, written_day
from reminder_pipeline_tests.delivery.helpers import rows
from reminder_pipeline_tests.listening.rabbitmq import fresh_queues, require_rabbitmq

PROJECT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 90.0


@pytest.fixture
def queues() -> Iterator[BrokerSettings]:
    with fresh_queues(batch_size=10) as settings:
        yield settings


def eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not after {WAIT_SECONDS:.0f} s")
        time.sleep(0.05)


@contextmanager
def listening(ledger: Ledger, settings: BrokerSettings) -> Iterator[PaymentListener]:
    listener = PaymentListener(ledger, settings)
    thread = threading.Thread(target=listener.run, name="listener", daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        listener.stop()
        thread.join(WAIT_SECONDS)
        assert not thread.is_alive(), "the listener did not stop"


def payment(payment_id: str, invoice_id: str = "INV-C00001", **changes: Any) -> bytes:
    fields = {"payment_id": payment_id, "invoice_id": invoice_id, "amount": "100.00", "currency": "EUR"}
    return payment_body(fields | {"paid_at": "2026-03-10T09:30:00+00:00"} | changes)


def inbox(ledger: Ledger) -> dict[str, tuple[str, str | None]]:
    """The broker's inbox rows: ``payment_id -> (status, detail)``."""
    with ledger.begin() as connection:
        found = connection.execute(
            select(inbound_events.c.dedupe_key, inbound_events.c.status, inbound_events.c.detail).where(
                inbound_events.c.source == "broker"
            )
        ).all()
    return {key: (status, detail) for key, status, detail in found}


def recorded_payments(ledger: Ledger) -> dict[str, int]:
    with ledger.begin() as connection:
        found = connection.execute(select(payments.c.payment_id, payments.c.amount_minor)).all()
    return dict(found)  # type: ignore[arg-type]


def test_a_payment_message_cancels_the_pending_reminder_before_the_next_delivery_run(
    ledger: Ledger, tmp_path: Path, queues: BrokerSettings
) -> None:
    written_day(ledger, tmp_path, people(2))
    publish_all(queues, [payment("P-1")])
    with listening(ledger, queues) as listener:
        eventually(lambda: listener.report.messages == 1, "the payment applied")
    assert listener.report.outcomes == {MessageOutcome.RECORDED: 1}
    assert recorded_payments(ledger) == {"P-1": 10000}
    assert inbox(ledger) == {"P-1": ("processed", "1 pending reminders cancelled")}
    assert queue_depth(queues) == 0, "acknowledged after the commit, not left on the queue"
    with running_sandbox(SandboxConfig(port=0, log_path=tmp_path / "sandbox.jsonl")) as sandbox:
        report = deliver(ledger, sendgrid_at(sandbox.url), lambda: SEND_AT)
        received = [m["reminder_key"] for m in sandbox.control.messages()]
    after = rows(ledger)
    assert report.sent == 1
    assert received == [after["C00002/email"]["dedupe_key"]]
    assert after["C00001/email"]["status"] == OutboxStatus.CANCELLED
    assert "rabbitmq" in after["C00001/email"]["status_reason"]


POISON = [
    (b"\xff\xfe{}", "the body is not UTF-8 text"),
    (b"not json", "the body is not JSON"),
    (b"[1, 2]", "the body is JSON but not an object"),
    (b'{"payment_id": "P-2"}', "missing fields: invoice_id, amount, currency, paid_at"),
    (payment("P-3", amount=12.5), 'amount must be a string (amounts as decimal strings, e.g. "120.50")'),
    (payment("P-4", amount="12,00"), "bad amount: '12,00' is not an amount in EUR (digits, at most 2 decimals)"),
    (payment("P-5", paid_at="2026-03-10T09:30:00"), "paid_at has no UTC offset (write it as 2026-03-10T09:30:00Z)"),
    (payment("P-6", currency="USD"), "refused: paid in USD, the invoice is in EUR"),
    (payment("P-1", amount="41.00"), "payment_id already received with other values"),
    (payment("P-" + "7" * 120), "payment_id is longer than 100 characters"),
]


def test_poison_messages_land_in_the_dead_letter_queue_with_their_reason_and_good_ones_still_apply(
    ledger: Ledger, tmp_path: Path, queues: BrokerSettings
) -> None:
    written_day(ledger, tmp_path, people(1))
    good = [payment("P-1"), payment("P-1"), payment("P-9", invoice_id="INV-NOPE")]
    bodies = [good[0], *(body for body, _ in POISON), *good[1:]]
    publish_all(queues, bodies)
    with listening(ledger, queues) as listener:
        eventually(lambda: listener.report.messages == len(bodies), "every message settled")
    dead = take_dead_letters(queues)
    assert [(d.body, d.reason) for d in dead] == POISON
    assert all(d.headers["x-reminders-queue"] == queues.queue for d in dead)
    assert queue_depth(queues) == 0
    assert recorded_payments(ledger) == {"P-1": 10000}
    assert inbox(ledger) == {
        "P-1": ("processed", "1 pending reminders cancelled"),
        "P-6": ("failed", "refused: paid in USD, the invoice is in EUR"),
        "P-9": ("unmatched", "no such invoice in the ledger"),
    }
    assert listener.report.outcomes[MessageOutcome.REDELIVERED] == 1
    assert listener.report.outcomes[MessageOutcome.UNMATCHED] == 1


def test_a_payment_already_taken_by_the_webhook_changes_nothing_more(
    ledger: Ledger, tmp_path: Path, queues: BrokerSettings
) -> None:
    written_day(ledger, tmp_path, people(1))
    with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
        apply_payment(connection, parse_payment(payment("P-1").decode()), SEND_AT)
    publish_all(queues, [payment("P-1")])
    with listening(ledger, queues) as listener:
        eventually(lambda: listener.report.messages == 1, "the payment settled")
    assert listener.report.outcomes == {MessageOutcome.ALREADY_RECORDED: 1}
    assert inbox(ledger) == {"P-1": ("ignored", "already in the ledger")}
    assert recorded_payments(ledger) == {"P-1": 10000}


def _allow_connections(database: str, allowed: bool) -> None:
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )
    admin.close()


def test_while_the_ledger_is_away_messages_go_back_to_the_queue_and_are_applied_when_it_returns(
    postgres_url: str, tmp_path: Path, queues: BrokerSettings
) -> None:
    upgrade_ledger(postgres_url)
    database = postgres_url.rsplit("/", 1)[1]
    with Ledger(postgres_url) as ledger:
        written_day(ledger, tmp_path, people(3))
        with listening(ledger, queues) as listener:
            _allow_connections(database, False)
            try:
                publish_all(queues, [payment(f"P-{i}", f"INV-C0000{i}") for i in (1, 2, 3)])
                eventually(lambda: listener.report.requeued_batches >= 2, "the batch put back, twice")
                assert listener.report.messages == 0, "nothing acknowledged while the ledger was away"
            finally:
                _allow_connections(database, True)
            eventually(lambda: listener.report.messages == 3, "the payments applied once the ledger returned")
        assert listener.report.outcomes == {MessageOutcome.RECORDED: 3}
        assert sorted(recorded_payments(ledger)) == ["P-1", "P-2", "P-3"]
        assert queue_depth(queues) == 0


def restart_broker() -> None:
    for step in ("stop_app", "start_app"):
        subprocess.run(["rabbitmqctl", step], check=True, capture_output=True, timeout=180)


def test_the_listener_reconnects_after_a_broker_restart(ledger: Ledger, tmp_path: Path, queues: BrokerSettings) -> None:
    written_day(ledger, tmp_path, people(2))
    publish_all(queues, [payment("P-1")])
    with listening(ledger, queues) as listener:
        eventually(lambda: listener.report.messages == 1, "the first payment applied")
        restart_broker()
        require_rabbitmq(queues)
        publish_all(queues, [payment("P-2", "INV-C00002")])
        eventually(lambda: listener.report.messages == 2, "the payment sent after the restart applied")
    assert listener.report.connections >= 2
    assert sorted(recorded_payments(ledger)) == ["P-1", "P-2"]


def test_settings_come_from_the_environment_and_the_password_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMINDERS_AMQP_URL", "amqp://svc:s3cret@mq.internal:5672/billing")
    monkeypatch.setenv("REMINDERS_AMQP_QUEUE", "payments.live")
    settings = broker_settings(prefetch=20)
    assert (settings.queue, settings.dead_letter_queue) == ("payments.live", "payments.live.dead")
    assert (settings.prefetch, settings.batch_size) == (20, 20)
    assert settings.display_url == "amqp://svc:***@mq.internal:5672/billing"
    monkeypatch.delenv("REMINDERS_AMQP_URL")
    assert broker_settings().amqp_url == "amqp://guest:guest@127.0.0.1:5672/%2F"
    assert "s3cret" not in safe_amqp_url("amqp://svc:s3cret@mq:99999999/")


def test_reminders_listen_refuses_an_amqp_url_it_cannot_read(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "reminder_pipeline.cli", "listen", "--amqp-url", "nonsense://svc:s3cret@mq/"]
    command += ["--db", f"sqlite:///{tmp_path / 'ledger.sqlite'}"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert "s3cret" not in done.stderr
