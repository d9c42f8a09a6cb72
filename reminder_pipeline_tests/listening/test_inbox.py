"""The durable inbox on SQLite and PostgreSQL: stored once, processed once, nothing lost in a crash."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, select

from reminder_pipeline.ledger.schema import inbound_events
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.inbox import (
    INBOX_LOCK,
    EventSource,
    EventStatus,
    HandlerOutcome,
    InboundEvent,
    mark,
    process_event,
    process_pending,
    store_event,
)

NOW = datetime(2026, 3, 10, 9, tzinfo=UTC)


def _store(ledger: Ledger, key: str, source: EventSource = EventSource.PAYMENT, body: str = "{}") -> int | None:
    with ledger.begin_write(INBOX_LOCK, shared=True) as connection:
        return store_event(connection, source, key, body, NOW)


def _events(ledger: Ledger) -> dict[str, dict[str, object]]:
    with ledger.begin() as connection:
        found = connection.execute(select(inbound_events)).mappings().all()
    return {f"{r['source']}/{r['dedupe_key']}": dict(r) for r in found}


class Recorder:
    """A handler that leaves a trace in the ledger (an event of its own) and counts its calls."""

    def __init__(self, status: EventStatus = EventStatus.PROCESSED, fail: bool = False) -> None:
        self.calls: Counter[int] = Counter()
        self.status = status
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, connection: Connection, event: InboundEvent, now: datetime) -> HandlerOutcome:
        with self.lock:
            self.calls[event.event_id] += 1
        store_event(connection, EventSource.BROKER, f"effect-of-{event.event_id}", event.body, now)
        if self.fail:
            raise RuntimeError(f"{event.body} broke it")  # customer data in a message: never logged
        return HandlerOutcome(self.status, f"done for jane@example.com and +4915112345678 ({event.body})")


def test_an_event_is_stored_once_per_source_and_key(ledger: Ledger) -> None:
    first = _store(ledger, "P-1")
    assert isinstance(first, int)
    assert _store(ledger, "P-1", body='{"other": true}') is None
    other_source = _store(ledger, "P-1", EventSource.STRIPE)
    assert isinstance(other_source, int)
    assert other_source != first
    stored = _events(ledger)
    assert set(stored) == {"payment/P-1", "stripe/P-1"}
    assert stored["payment/P-1"]["body"] == "{}"
    assert stored["payment/P-1"]["status"] == EventStatus.RECEIVED


@pytest.mark.parametrize("key", ["", "k" * 201])
def test_a_dedupe_key_must_fit(ledger: Ledger, key: str) -> None:
    with pytest.raises(ValueError, match="dedupe key"), ledger.begin_write(INBOX_LOCK) as connection:
        store_event(connection, EventSource.PAYMENT, key, "{}", NOW)


def test_mark_keeps_the_status_and_a_masked_reason(ledger: Ledger) -> None:
    event_id = _store(ledger, "P-1")
    assert event_id is not None
    with ledger.begin_write(INBOX_LOCK) as connection:
        mark(connection, event_id, EventStatus.UNMATCHED, "no invoice for jane.doe@example.com", now=NOW)
    row = _events(ledger)["payment/P-1"]
    assert row["status"] == EventStatus.UNMATCHED
    assert "jane.doe" not in str(row["detail"])
    assert "no invoice for" in str(row["detail"])
    assert row["processed_at"] is not None


def test_an_event_stored_but_never_processed_is_processed_later_once(ledger: Ledger) -> None:
    ids = [_store(ledger, f"P-{i}", body=f'"{i}"') for i in range(5)]
    _store(ledger, "SM1:delivered:", EventSource.TWILIO_STATUS)
    handler = Recorder()
    counts = process_pending(ledger, NOW, {EventSource.PAYMENT: handler})
    assert counts == Counter({EventStatus.PROCESSED: 5})
    assert handler.calls == Counter(dict.fromkeys(ids, 1))
    stored = _events(ledger)
    assert {stored[f"payment/P-{i}"]["status"] for i in range(5)} == {EventStatus.PROCESSED}
    assert stored["twilio_status/SM1:delivered:"]["status"] == EventStatus.RECEIVED, "no handler: left for later"
    assert all(f"broker/effect-of-{i}" in stored for i in ids)
    assert "+4915112345678" not in str(stored["payment/P-0"]["detail"])
    assert process_pending(ledger, NOW, {EventSource.PAYMENT: handler}) == Counter()
    assert sum(handler.calls.values()) == 5


def test_a_handler_that_breaks_leaves_no_effect_and_the_event_failed_without_its_message(
    ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    event_id = _store(ledger, "P-1")
    assert event_id is not None
    event = InboundEvent(event_id, EventSource.PAYMENT, "jane@example.com", NOW)
    outcome = process_event(ledger, event, Recorder(fail=True), NOW)
    assert outcome.status is EventStatus.FAILED
    stored = _events(ledger)
    assert f"broker/effect-of-{event_id}" not in stored, "the handler's writes were rolled back"
    assert stored["payment/P-1"]["status"] == EventStatus.FAILED
    assert stored["payment/P-1"]["detail"] == "the payment handler failed: RuntimeError"
    assert "RuntimeError" in caplog.text
    assert "jane@example.com" not in caplog.text


def test_an_event_already_processed_is_not_processed_again(ledger: Ledger) -> None:
    event_id = _store(ledger, "P-1")
    assert event_id is not None
    handler = Recorder(EventStatus.UNMATCHED)
    event = InboundEvent(event_id, EventSource.PAYMENT, "{}", NOW)
    assert process_event(ledger, event, handler, NOW).status is EventStatus.UNMATCHED
    assert process_event(ledger, event, handler, NOW).status is EventStatus.UNMATCHED
    assert handler.calls == Counter({event_id: 1})


def test_two_processes_draining_the_inbox_at_once_apply_each_event_once(ledger: Ledger) -> None:
    ids = [_store(ledger, f"P-{i}") for i in range(40)]
    handler = Recorder()
    failures: list[BaseException] = []

    def drain() -> None:
        try:
            process_pending(ledger, NOW, {EventSource.PAYMENT: handler})
        except BaseException as error:
            failures.append(error)

    workers = [threading.Thread(target=drain) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not failures
    assert handler.calls == Counter(dict.fromkeys(ids, 1))
    assert {r["status"] for k, r in _events(ledger).items() if k.startswith("payment/")} == {EventStatus.PROCESSED}
