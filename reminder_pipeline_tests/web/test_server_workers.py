"""``reminders serve --workers N``: N processes share the port, on PostgreSQL and on a SQLite file (whose
writers take turns), each event applied once and a graceful stop on SIGTERM."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx

from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.inbox import EventStatus
from reminder_pipeline_tests.delivery.crowd import people, written_day
from reminder_pipeline_tests.delivery.helpers import rows
from reminder_pipeline_tests.web.kinds import inbox
from reminder_pipeline_tests.web.server import free_port, start_serve, wait_healthy
from reminder_pipeline_tests.web.signing import Secrets, payment, payment_post


def _post(url: str, secrets: Secrets, payment_id: str, invoice_id: str) -> str:
    post = payment_post(secrets, payment(payment_id, invoice_id), datetime.now().astimezone())
    answer = httpx.post(url + post.path, content=post.body, headers=post.headers, timeout=30)
    return str(answer.json()["status"])


def test_several_workers_serve_one_ledger_each_event_applied_once(
    ledger: Ledger, tmp_path: Path, secrets: Secrets
) -> None:
    written_day(ledger, tmp_path, people(6))
    port = free_port()
    process = start_serve(ledger.url, tmp_path / "home", secrets.payment_secret, port, "--workers", "2")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        sent = [(f"P-{i}", f"INV-C{i % 6 + 1:05d}") for i in range(24)] * 2  # each twice: a provider's retry
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda p: _post(url, secrets, *p), sent))
        assert set(answers) <= {EventStatus.PROCESSED, "duplicate"}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        _, errors = process.communicate()
    assert [e["status"] for e in inbox(ledger)] == [EventStatus.PROCESSED] * 24, "each payment stored and applied once"
    assert {r["status"] for r in rows(ledger).values()} == {OutboxStatus.CANCELLED}
    assert errors.count("Started server process") == 2, "two worker processes"
