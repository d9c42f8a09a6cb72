"""Payment webhooks and Stripe events handled together (``handle_payments``, set-based) against one by one:
on random mixes — repeats, conflicting repeats, unknown invoices, wrong currencies, unreadable bodies,
refunds, other Stripe events, several payments of one customer — each event is said to have done the same
and the ledger ends the same. Both run on the same ledger state, each in a transaction rolled back after."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from reminder_pipeline.ledger.schema import outbox, payments
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.inbox import EventSource, HandlerOutcome, InboundEvent
from reminder_pipeline.web.payment_handlers import PAYMENT_HANDLERS, handle_payments
from reminder_pipeline_tests.delivery.crowd import people, written_day
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
