"""A batch of payments applied set-wise leaves the ledger as applying them one by one, in order, would."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, select, update

from reminder_pipeline.core.outbox import OUTBOX_LOCK, OutboxStatus
from reminder_pipeline.ledger.schema import outbox, payments
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger
from reminder_pipeline.listening.payments import (
    PaymentEvent,
    PaymentOutcome,
    PaymentResult,
    apply_payment,
    apply_payments,
)
from reminder_pipeline_tests.delivery.crowd import people, written_day
from reminder_pipeline_tests.ledger.plans import plans, plans_of

NOW = datetime(2026, 3, 10, 9, tzinfo=UTC)
PAID_AT = [datetime(2026, 3, 9, 14, tzinfo=UTC), datetime(2026, 3, 10, 8, tzinfo=UTC)]
KNOWN = PaymentEvent("P-known", "INV-C00001", "40.00", "EUR", PAID_AT[0], "webhook")
"""In the ledger before every batch: the same again is a duplicate, other values are refused."""

events = st.builds(
    PaymentEvent,
    payment_id=st.sampled_from(["P-1", "P-2", "P-3", "P-4", "P-known"]),
    invoice_id=st.sampled_from(["INV-C00001", "INV-C00002", "INV-C00003", "INV-C00004", "INV-NOPE"]),
    amount=st.sampled_from(["40.00", "40", "12.3", "100.00", "0", "-1", "40.001", "1,000.00", "abc", ""]),
    currency=st.sampled_from(["EUR", " eur ", "USD"]),
    paid_at=st.sampled_from(PAID_AT),
    source=st.sampled_from(["rabbitmq", "webhook"]),
)
batches = st.lists(events, max_size=14)


class _Undo(Exception):
    """Raised to roll a write transaction back once its effects are read."""


def _ledger_state(connection: Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    paid = [dict(r) for r in connection.execute(select(payments).order_by(payments.c.payment_id)).mappings()]
    for row in paid:  # the database's clock
        row.pop("updated_at", None)
        row.pop("created_at", None)
    pending = connection.execute(
        select(outbox.c.outbox_id, outbox.c.customer_id, outbox.c.status, outbox.c.status_reason).order_by(
            outbox.c.outbox_id
        )
    ).mappings()
    return paid, [dict(r) for r in pending]


def _applied(
    ledger: Ledger,
    apply: Callable[[Connection, Sequence[PaymentEvent]], list[PaymentResult]],
    batch: list[PaymentEvent],
) -> tuple[list[PaymentResult], Any]:
    """What ``apply`` answers for ``batch`` and the ledger it leaves, rolled back afterwards."""
    seen: list[Any] = []
    try:
        with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
            results = apply(connection, batch)
            seen.append((results, _ledger_state(connection)))
            raise _Undo
    except _Undo:
        pass
    return seen[0]


def _one_by_one(connection: Connection, batch: Sequence[PaymentEvent]) -> list[PaymentResult]:
    return [apply_payment(connection, event, NOW) for event in batch]


def _set_wise(connection: Connection, batch: Sequence[PaymentEvent]) -> list[PaymentResult]:
    return apply_payments(connection, batch, NOW)


def _prepared(ledger: Ledger, folder: Path) -> None:
    """Five customers with a reminder each (C00003's already handed over), one payment of C00001's known."""
    written_day(ledger, folder, people(5))
    with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
        connection.execute(update(outbox).where(outbox.c.customer_id == "C00003").values(status=OutboxStatus.SENT))
        connection.execute(update(outbox).where(outbox.c.customer_id == "C00004").values(status=OutboxStatus.HELD))
        assert apply_payment(connection, KNOWN, NOW).outcome is PaymentOutcome.RECORDED


def test_a_batch_applied_set_wise_leaves_the_ledger_as_applying_it_one_by_one(ledger: Ledger, tmp_path: Path) -> None:
    _prepared(ledger, tmp_path)
    outcomes: set[PaymentOutcome] = set()

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(batch=batches)
    def check(batch: list[PaymentEvent]) -> None:
        expected = _applied(ledger, _one_by_one, batch)
        assert _applied(ledger, _set_wise, batch) == expected
        outcomes.update(r.outcome for r in expected[0])

    check()
    assert outcomes == set(PaymentOutcome)  # every rule was met at least once


def test_a_repeated_payment_id_in_a_batch_meets_the_earlier_one_and_only_the_first_payment_cancels(
    ledger: Ledger, tmp_path: Path
) -> None:
    _prepared(ledger, tmp_path)
    first = PaymentEvent("P-9", "INV-C00002", "10.00", "EUR", PAID_AT[1], "rabbitmq")
    batch = [
        first,
        first,
        PaymentEvent("P-9", "INV-C00002", "11.00", "EUR", PAID_AT[1], "rabbitmq"),
        PaymentEvent("P-10", "INV-C00002", "5.00", "EUR", PAID_AT[1], "webhook"),
        PaymentEvent("P-11", "INV-C00004", "5.00", "EUR", PAID_AT[1], "webhook"),
    ]
    results, (_, rows) = _applied(ledger, _set_wise, batch)
    assert [r.outcome for r in results] == [
        PaymentOutcome.RECORDED,
        PaymentOutcome.DUPLICATE,
        PaymentOutcome.REFUSED,
        PaymentOutcome.RECORDED,
        PaymentOutcome.RECORDED,
    ]
    assert [r.cancelled for r in results] == [1, 0, 0, 0, 1]
    reasons = {r["customer_id"]: (r["status"], r["status_reason"]) for r in rows}
    assert reasons["C00002"] == (OutboxStatus.CANCELLED, "a payment arrived (rabbitmq) before it was sent")
    assert reasons["C00004"] == (OutboxStatus.CANCELLED, "a payment arrived (webhook) before it was sent")
    assert reasons["C00003"][0] == OutboxStatus.SENT
    assert reasons["C00005"] == (OutboxStatus.RENDERED, None)


def test_a_batchs_pending_reminders_are_cancelled_through_the_customers_index(tmp_path: Path) -> None:
    """SQLite's planner, offered the status index, walked every row not handed over yet (the day's rendered
    messages, 12 ms a batch at 20,000) instead of the few rows of the batch's customers."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    upgrade_ledger(url)
    with Ledger(url) as ledger:
        written_day(ledger, tmp_path, people(6))
        batch = [PaymentEvent(f"P-{i}", f"INV-C0000{i}", "40.00", "EUR", PAID_AT[0], "webhook") for i in range(1, 7)]
        with ledger.begin_write(OUTBOX_LOCK) as connection, plans(connection) as found:
            results = apply_payments(connection, batch, NOW)
    assert [r.cancelled for r in results] == [1] * 6  # more customers than statuses: the plan turned at 5
    outbox_plans = plans_of(found, "outbox")
    assert outbox_plans, found
    for plan in outbox_plans:
        assert "ix_outbox_customer_episode (customer_id=?)" in plan, plan
        assert "ix_outbox_status_window_end" not in plan, plan
