"""Payment webhooks and Stripe events handled together (``handle_payments``, set-based) against one by one:
on random mixes — repeats, conflicting repeats, unknown invoices, wrong currencies, unreadable bodies,
refunds, other Stripe events, several payments of one customer — each event is said to have done the same
and the ledger ends the same. Both run on the same ledger state, each in a transaction rolled back after."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, select

from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.ledger.schema import outbox, payments
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.batched import BatchedHandler
from reminder_pipeline.listening.inbox import (
    INBOX_LOCK,
    EventSource,
    EventStatus,
    HandlerOutcome,
    InboundEvent,
    process_events,
    store_events,
)
from reminder_pipeline.web.payment_handlers import PAYMENT_HANDLERS, PAYMENTS_GROUP, handle_payments
from reminder_pipeline_tests.delivery.crowd import people, written_day
from reminder_pipeline_tests.delivery.helpers import rows
from reminder_pipeline_tests.web.kinds import inbox
from reminder_pipeline_tests.web.signing import charge_refunded, invoice_paid, payment

NOW = datetime(2026, 3, 10, 15, tzinfo=UTC)


def _body(rng: random.Random) -> tuple[EventSource, str]:
    invoice = f"INV-C{rng.randint(1, 5):05d}"
    roll = rng.random()
    if roll < 0.5:
        found: dict[str, Any] = payment(f"P-{rng.randint(1, 8)}", invoice, rng.choice(["100.00", "40.50", "40.50"]))
        if rng.random() < 0.1:
            found["currency"] = "USD"
        return EventSource.PAYMENT, json.dumps(found)
    if roll < 0.8:
        event = invoice_paid(f"evt_{rng.randint(1, 6)}", invoice, rng.choice([4050, 10000, 0]))
        return EventSource.STRIPE, json.dumps(event)
    return rng.choice(
        [
            (EventSource.STRIPE, json.dumps(charge_refunded())),
            (EventSource.STRIPE, json.dumps({"id": "evt_x", "type": "customer.created"})),
            (EventSource.PAYMENT, json.dumps(payment("P-9", "INV-NOBODY"))),
            (EventSource.PAYMENT, "not json"),
        ]
    )


def _run(ledger: Ledger, events: list[InboundEvent], together: bool) -> tuple[list[HandlerOutcome], Any]:
    with ledger.engine.connect() as connection:
        transaction = connection.begin()
        if together:
            outcomes = handle_payments(connection, events, NOW)
        else:
            outcomes = [PAYMENT_HANDLERS[e.source](connection, e, NOW) for e in events]
        recorded = [dict(r) for r in connection.execute(select(payments).order_by(payments.c.payment_id)).mappings()]
        rows = connection.execute(
            select(outbox.c.dedupe_key, outbox.c.status, outbox.c.status_reason).order_by(outbox.c.dedupe_key)
        ).all()
        transaction.rollback()
    clocks = ("created_at", "updated_at")
    return outcomes, ([{k: v for k, v in r.items() if k not in clocks} for r in recorded], rows)


def test_payments_handled_together_do_what_each_handled_in_turn_does(ledger: Ledger, tmp_path: Path) -> None:
    written_day(ledger, tmp_path, people(5))

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(st.randoms(use_true_random=False), st.integers(1, 25))
    def check(rng: random.Random, count: int) -> None:
        events = [InboundEvent(i + 1, *_body(rng), NOW) for i in range(count)]
        assert _run(ledger, events, together=True) == _run(ledger, events, together=False)

    check()


def _never_alone(connection: Connection, event: InboundEvent, now: datetime) -> HandlerOutcome:
    """The handler of one event alone: called only when the run was undone (then its event fails)."""
    raise AssertionError("the batched run was undone")


def test_unknown_invoices_and_repeated_payment_ids_on_the_batched_path(ledger: Ledger, tmp_path: Path) -> None:
    """DESIGN's payment promises on the run handed to ``handle_payments`` at once: a payment for an invoice
    the ledger does not know is acknowledged (unmatched) and kept; the same ``payment_id`` again is a no-op."""
    written_day(ledger, tmp_path, people(2))
    bodies = [
        (EventSource.PAYMENT, json.dumps(payment("P-1", "INV-C00001"))),
        (EventSource.PAYMENT, json.dumps(payment("P-9", "INV-NOBODY"))),
        (EventSource.STRIPE, json.dumps(invoice_paid("evt_1", "INV-NOBODY"))),
        (EventSource.PAYMENT, json.dumps(payment("P-1", "INV-C00001") | {"paid_at": "2026-03-10T14:31:00+00:00"})),
    ]
    with ledger.begin_write(INBOX_LOCK, shared=True) as connection:
        ids = store_events(connection, [(s, f"key-{i}", b) for i, (s, b) in enumerate(bodies)], NOW)
    runs: list[int] = []

    def many(connection: Connection, events: Sequence[InboundEvent], now: datetime) -> list[HandlerOutcome]:
        runs.append(len(events))
        return handle_payments(connection, events, now)

    handlers = {s: BatchedHandler(_never_alone, many, PAYMENTS_GROUP) for s in PAYMENT_HANDLERS}
    events = [(InboundEvent(int(i or 0), s, b, NOW), handlers[s]) for i, (s, b) in zip(ids, bodies, strict=True)]
    done = process_events(ledger, events, NOW)
    assert runs == [len(bodies)], "the whole run went to the batched handler once"
    statuses = [EventStatus.PROCESSED, EventStatus.UNMATCHED, EventStatus.UNMATCHED, EventStatus.PROCESSED]
    assert [d.status for d in done] == statuses
    assert done[3].detail == "this payment was recorded already"
    assert [e["status"] for e in inbox(ledger)] == statuses, "each event kept, the unmatched ones to reconcile"
    with ledger.begin() as connection:
        assert connection.execute(select(payments.c.payment_id)).scalars().all() == ["P-1"]
    assert rows(ledger)["C00002/email"]["status"] != OutboxStatus.CANCELLED, "only the payer's reminders cancelled"
