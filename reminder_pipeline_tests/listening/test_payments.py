"""A live payment is recorded and cancels its customer's pending reminders in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from reminder_pipeline.core.money import AmountProblem, parse_major
from reminder_pipeline.core.outbox import OUTBOX_LOCK, OutboxStatus
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.payments import PaymentEvent, PaymentOutcome, apply_payment
from reminder_pipeline_tests.delivery.crowd import people, written_day
from reminder_pipeline_tests.delivery.helpers import rows

NOW = datetime(2026, 3, 10, 9, tzinfo=UTC)


def _pay(ledger: Ledger, **changes: str) -> object:
    fields = {"payment_id": "P-1", "invoice_id": "INV-C00001", "amount": "40.00", "currency": "EUR"} | changes
    event = PaymentEvent(**fields, paid_at=NOW, source="webhook")  # type: ignore[arg-type]
    with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
        return apply_payment(connection, event, NOW)


def test_a_payment_cancels_every_pending_reminder_of_its_customer_and_only_theirs(
    ledger: Ledger, tmp_path: Path
) -> None:
    written_day(ledger, tmp_path, people(2))
    result = _pay(ledger)
    assert result.outcome is PaymentOutcome.RECORDED  # type: ignore[attr-defined]
    assert result.cancelled == 1  # type: ignore[attr-defined]
    after = rows(ledger)
    assert after["C00001/email"]["status"] == OutboxStatus.CANCELLED
    assert after["C00002/email"]["status"] == OutboxStatus.RENDERED


def test_the_same_payment_again_is_a_no_op_and_a_conflicting_one_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    written_day(ledger, tmp_path, people(1))
    _pay(ledger)
    assert _pay(ledger).outcome is PaymentOutcome.DUPLICATE  # type: ignore[attr-defined]
    assert _pay(ledger, amount="41.00").outcome is PaymentOutcome.REFUSED  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("changes", "outcome"),
    [
        ({"invoice_id": "NOPE"}, PaymentOutcome.UNMATCHED),
        ({"currency": "USD"}, PaymentOutcome.REFUSED),
        ({"amount": "40.001"}, PaymentOutcome.REFUSED),
        ({"amount": "0"}, PaymentOutcome.REFUSED),
        ({"amount": "1,000.00"}, PaymentOutcome.REFUSED),
    ],
)
def test_a_payment_that_cannot_be_taken_as_it_is_changes_nothing(
    ledger: Ledger, tmp_path: Path, changes: dict[str, str], outcome: PaymentOutcome
) -> None:
    written_day(ledger, tmp_path, people(1))
    assert _pay(ledger, **changes).outcome is outcome  # type: ignore[attr-defined]
    assert rows(ledger)["C00001/email"]["status"] == OutboxStatus.RENDERED


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("12.30", "EUR", 1230), ("12.3", "EUR", 1230), ("7", "JPY", 7), ("1.234", "KWD", 1234)],
)
def test_amounts_are_read_exactly(text: str, currency: str, minor: int) -> None:
    assert parse_major(text, currency) == minor


@pytest.mark.parametrize("text", ["1.5", "-1", "1e3", "1,00", "", ".5", "1.", "１２"])
def test_an_amount_that_is_not_exactly_one_value_is_refused(text: str) -> None:
    with pytest.raises(AmountProblem):
        parse_major(text, "JPY" if text == "1.5" else "EUR")
