"""The Stripe adapter: ``invoice.paid`` is a payment, ``charge.refunded`` is kept for a person, the rest ignored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.ledger.schema import payments
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.inbox import EventStatus, HandlerOutcome
from reminder_pipeline.listening.payments import PaymentEvent
from reminder_pipeline.web.payment_handlers import stripe_payment
from reminder_pipeline_tests.delivery.crowd import people, written_day
from reminder_pipeline_tests.delivery.helpers import rows
from reminder_pipeline_tests.web.kinds import inbox, send
from reminder_pipeline_tests.web.signing import MovableClock, Secrets, charge_refunded, invoice_paid, stripe_post


def paid(ledger: Ledger) -> dict[str, dict[str, Any]]:
    with ledger.begin() as connection:
        return {r["payment_id"]: dict(r) for r in connection.execute(select(payments)).mappings()}


def test_an_invoice_paid_event_records_the_payment_and_cancels_the_pending_reminder(
    client: httpx.Client, ledger: Ledger, tmp_path: Path, secrets: Secrets, web_clock: MovableClock
) -> None:
    written_day(ledger, tmp_path, people(2))
    answer = send(client, stripe_post(secrets, invoice_paid("evt_1", "INV-C00001", 4050), web_clock.now))
    assert answer.json()["status"] == EventStatus.PROCESSED
    recorded = paid(ledger)["stripe:in_evt_1"]
    assert (recorded["invoice_id"], recorded["amount_minor"], recorded["method"]) == ("INV-C00001", 4050, "stripe")
    assert rows(ledger)["C00001/email"]["status"] == OutboxStatus.CANCELLED
    assert rows(ledger)["C00002/email"]["status"] == OutboxStatus.RENDERED


def test_without_metadata_the_stripe_invoice_number_names_the_invoice(
    client: httpx.Client, ledger: Ledger, tmp_path: Path, secrets: Secrets, web_clock: MovableClock
) -> None:
    written_day(ledger, tmp_path, people(1))
    event = invoice_paid("evt_2", None)
    event["data"]["object"]["number"] = "INV-C00001"
    assert send(client, stripe_post(secrets, event, web_clock.now)).json()["status"] == EventStatus.PROCESSED
    assert paid(ledger)["stripe:in_evt_2"]["amount_minor"] == 10000


def test_the_same_stripe_event_again_and_another_event_for_the_same_invoice_pay_once(
    client: httpx.Client, ledger: Ledger, tmp_path: Path, secrets: Secrets, web_clock: MovableClock
) -> None:
    written_day(ledger, tmp_path, people(1))
    event = invoice_paid("evt_3")
    assert send(client, stripe_post(secrets, event, web_clock.now)).status_code == 200
    assert send(client, stripe_post(secrets, event, web_clock.now)).json() == {"status": "duplicate"}
    resent = event | {"id": "evt_3b"}
    assert send(client, stripe_post(secrets, resent, web_clock.now)).json()["status"] == EventStatus.PROCESSED
    assert list(paid(ledger)) == ["stripe:in_evt_3"]
    assert inbox(ledger)[1]["detail"] == "this payment was recorded already"


def test_a_refund_is_kept_for_reconciliation_and_changes_no_payment(
    client: httpx.Client, ledger: Ledger, tmp_path: Path, secrets: Secrets, web_clock: MovableClock
) -> None:
    written_day(ledger, tmp_path, people(1))
    send(client, stripe_post(secrets, invoice_paid("evt_4"), web_clock.now))
    before = paid(ledger)
    answer = send(client, stripe_post(secrets, charge_refunded("evt_5"), web_clock.now))
    assert answer.status_code == 200
    assert answer.json()["status"] == EventStatus.UNMATCHED
    assert paid(ledger) == before
    assert "reconcile" in inbox(ledger)[-1]["detail"]


def test_other_event_types_are_acknowledged_and_ignored(
    client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    event = {"id": "evt_6", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}
    assert send(client, stripe_post(secrets, event, web_clock.now)).json()["status"] == EventStatus.IGNORED


@pytest.mark.parametrize("event", [{"type": "invoice.paid"}, {"id": "evt_7"}, {"id": 7, "type": "invoice.paid"}, []])
def test_a_signed_body_that_is_not_a_stripe_event_is_refused(
    client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock, event: Any
) -> None:
    assert send(client, stripe_post(secrets, event, web_clock.now)).status_code == 400
    assert inbox(ledger) == []


@pytest.mark.parametrize(
    ("currency", "amount_paid", "amount"),
    [("eur", 4050, "40.50"), ("jpy", 1200, "1200"), ("kwd", 1234, "1.234"), ("usd", 5, "0.05")],
)
def test_amount_paid_is_converted_with_the_currencys_digits(currency: str, amount_paid: int, amount: str) -> None:
    payment = stripe_payment(invoice_paid("evt_8", "INV-1", amount_paid, currency))
    assert isinstance(payment, PaymentEvent)
    assert (payment.amount, payment.currency, payment.payment_id) == (amount, currency.upper(), "stripe:in_evt_8")


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"amount_paid": 0}, EventStatus.IGNORED),
        ({"amount_paid": "40.50"}, EventStatus.FAILED),
        ({"amount_paid": True}, EventStatus.FAILED),
        ({"currency": "euro"}, EventStatus.FAILED),
        ({"metadata": {}, "number": None}, EventStatus.UNMATCHED),
        ({"id": None}, EventStatus.FAILED),
    ],
)
def test_an_invoice_paid_that_is_not_one_payment_is_not_guessed_at(change: dict[str, Any], status: EventStatus) -> None:
    event = invoice_paid("evt_9")
    event["data"]["object"] |= change
    outcome = stripe_payment(event)
    assert isinstance(outcome, HandlerOutcome)
    assert outcome.status is status
