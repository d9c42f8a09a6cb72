"""Delivery killed mid-batch, and several workers at once: still at most once per reminder (promise 1)."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline_tests.delivery import workers
from reminder_pipeline_tests.delivery.crowd import SEND_AT, people, written_day
from reminder_pipeline_tests.delivery.helpers import keys_received, rows, statuses

S = OutboxStatus


def _wait_for(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def test_a_worker_killed_mid_batch_leaves_nothing_sent_twice_and_nothing_stuck(
    ledger: Ledger, tmp_path: Path, sandbox
) -> None:
    written_day(ledger, tmp_path, people(40))
    sandbox.control.set_faults("latency_ms=150")
    worker = workers.start(ledger.url, SEND_AT, sandbox.url, "--concurrency", "4", "--per-second", "50")
    _wait_for(lambda: len(sandbox.control.messages()) >= 8)
    worker.kill()
    worker.wait(timeout=30)
    assert worker.returncode == -9
    at_kill = statuses(ledger)
    assert at_kill[S.SENDING] > 0
    sandbox.control.set_faults("")
    time.sleep(0.5)  # requests already inside the sandbox finish
    later = SEND_AT + timedelta(minutes=10)  # after the dead worker's lease
    again = workers.run(ledger.url, later, sandbox.url)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)["email"]
    assert report["reconciled"]["lease_expired"] == at_kill[S.SENDING]
    received = keys_received(sandbox.control.messages())
    assert set(received.values()) == {1}
    assert statuses(ledger) == {S.SENT: 40}
    assert set(received) == {r["dedupe_key"] for r in rows(ledger).values()}


def test_four_workers_drain_one_postgresql_outbox_of_twenty_thousand_rows_exactly_once(
    postgres_url: str, tmp_path: Path, sandbox
) -> None:
    from reminder_pipeline.ledger.store import upgrade_ledger

    upgrade_ledger(postgres_url)
    with Ledger(postgres_url) as ledger:
        written_day(ledger, tmp_path, people(20_000))
        assert statuses(ledger) == {S.RENDERED: 20_000}
        options = ("--concurrency", "16", "--per-second", "2000", "--batch-size", "250")
        running = [workers.start(postgres_url, SEND_AT, sandbox.url, *options) for _ in range(4)]
        outputs = [worker.communicate(timeout=900) for worker in running]
        assert [w.returncode for w in running] == [0] * 4, [err[-2000:] for _, err in outputs]
        sent_by_worker = [json.loads(out)["email"]["sent"] for out, _ in outputs]
        assert sum(sent_by_worker) == 20_000
        assert all(sent > 0 for sent in sent_by_worker)  # they really drained it together
        received = keys_received(sandbox.control.messages())
        assert len(received) == 20_000
        assert Counter(received.values()) == {1: 20_000}
        assert statuses(ledger) == {S.SENT: 20_000}
