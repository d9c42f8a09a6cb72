"""Payments reported live: the payment webhook's JSON and Stripe's events, read and applied to the ledger.

The payment webhook (DESIGN.md) posts ``{"payment_id", "invoice_id", "amount", "currency", "paid_at"}``
with the amount as a decimal string in major units. Of Stripe's events, ``invoice.paid`` becomes a
payment (the ledger's invoice id from ``metadata.invoice_id``, else the Stripe invoice's ``number``;
``amount_paid`` in minor units, converted with the currency's digits); ``charge.refunded`` is kept
``unmatched`` for a person to reconcile — a refund is never applied by guesswork; others are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from reminder_pipeline.core.money import AmountProblem, parse_major, to_major
from reminder_pipeline.listening.batched import BatchedHandler
from reminder_pipeline.listening.inbox import EventSource, EventStatus, Handler, HandlerOutcome, InboundEvent
from reminder_pipeline.listening.payments import (
    PaymentEvent,
    PaymentOutcome,
    PaymentResult,
    apply_payment,
    apply_payments,
)

MAX_PAYMENT_ID = 100
MAX_INVOICE_ID = 64
MAX_STRIPE_ID = 200
STRIPE_PAYMENT_PREFIX = "stripe:"
PAYMENTS_GROUP = "payments"


class PaymentProblem(ValueError):
    """A payment message that cannot be read as one payment (the reason quotes no value)."""


def _object(body: str) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        raise PaymentProblem("the body is not JSON") from None
    if not isinstance(parsed, dict):
        raise PaymentProblem("the body is not a JSON object")
    return parsed


def _text(payload: dict[str, Any], name: str, limit: int) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise PaymentProblem(f"{name} must be a non-empty string of at most {limit} characters")
    return value.strip()


def read_payment(body: str) -> PaymentEvent:
    """The payment webhook's JSON as a :class:`PaymentEvent`, or :class:`PaymentProblem` saying what is wrong."""
    payload = _object(body)
    currency = _text(payload, "currency", 3).upper()
    if len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        raise PaymentProblem("currency must be an ISO 4217 code")
    amount = payload.get("amount")
    if not isinstance(amount, str):
        raise PaymentProblem("amount must be a decimal string in major units (not a JSON number)")
    try:
        parse_major(amount, currency)
    except AmountProblem:
        raise PaymentProblem(f"amount is not an amount in {currency}") from None
    paid_at_text = _text(payload, "paid_at", 40)
    try:
        paid_at = datetime.fromisoformat(paid_at_text)
    except ValueError:
        raise PaymentProblem("paid_at must be an ISO 8601 date and time") from None
    if paid_at.tzinfo is None:
        raise PaymentProblem("paid_at must carry its UTC offset")
    return PaymentEvent(
        payment_id=_text(payload, "payment_id", MAX_PAYMENT_ID),
        invoice_id=_text(payload, "invoice_id", MAX_INVOICE_ID),
        amount=amount.strip(),
        currency=currency,
        paid_at=paid_at,
        source="webhook",
    )


def outcome_of(result: PaymentResult) -> HandlerOutcome:
    if result.outcome is PaymentOutcome.RECORDED:
        detail = f"recorded for customer {result.customer_id}; {result.cancelled} pending reminder(s) cancelled"
        return HandlerOutcome(EventStatus.PROCESSED, detail)
    if result.outcome is PaymentOutcome.DUPLICATE:
        return HandlerOutcome(EventStatus.PROCESSED, "this payment was recorded already")
    if result.outcome is PaymentOutcome.UNMATCHED:
        return HandlerOutcome(EventStatus.UNMATCHED, result.detail)
    return HandlerOutcome(EventStatus.FAILED, f"refused: {result.detail}")


def payment_of(event: InboundEvent) -> PaymentEvent | HandlerOutcome:
    """The payment a payment webhook's body reports, or the outcome that says why there is none."""
    try:
        return read_payment(event.body)
    except PaymentProblem as problem:
        return HandlerOutcome(EventStatus.FAILED, str(problem))


def handle_payment(connection: Connection, event: InboundEvent, now: datetime) -> HandlerOutcome:
    payment = payment_of(event)
    if isinstance(payment, HandlerOutcome):
        return payment
    return outcome_of(apply_payment(connection, payment, now))


def stripe_envelope(body: str) -> tuple[str, str]:
    """A Stripe event's ``(id, type)``, or :class:`PaymentProblem`."""
    payload = _object(body)
    return _text(payload, "id", MAX_STRIPE_ID), _text(payload, "type", MAX_STRIPE_ID)


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _unix(value: object) -> datetime | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**37:
        return datetime.fromtimestamp(value, UTC)
    return None


def stripe_payment(payload: dict[str, Any]) -> PaymentEvent | HandlerOutcome:
    """An ``invoice.paid`` event as a payment, or the outcome that says why it is not one."""
    invoice = _mapping(payload.get("data")).get("object")
    if not isinstance(invoice, dict):
        return HandlerOutcome(EventStatus.FAILED, "invoice.paid without data.object")
    metadata = _mapping(invoice.get("metadata"))
    ours = metadata.get("invoice_id") or invoice.get("number")
    stripe_id, amount, currency = invoice.get("id"), invoice.get("amount_paid"), invoice.get("currency")
    if not isinstance(ours, str) or not ours.strip() or len(ours) > MAX_INVOICE_ID:
        return HandlerOutcome(EventStatus.UNMATCHED, "invoice.paid names no invoice of ours (metadata.invoice_id)")
    if not isinstance(stripe_id, str) or not stripe_id or len(stripe_id) > MAX_PAYMENT_ID - len(STRIPE_PAYMENT_PREFIX):
        return HandlerOutcome(EventStatus.FAILED, "invoice.paid without the Stripe invoice's id")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        return HandlerOutcome(EventStatus.FAILED, "invoice.paid without an ISO 4217 currency")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        return HandlerOutcome(EventStatus.FAILED, "invoice.paid without amount_paid in minor units")
    if amount == 0:
        return HandlerOutcome(EventStatus.IGNORED, "invoice.paid with nothing paid")
    paid_at = _unix(_mapping(invoice.get("status_transitions")).get("paid_at")) or _unix(payload.get("created"))
    if paid_at is None:
        return HandlerOutcome(EventStatus.FAILED, "invoice.paid without a time of payment")
    return PaymentEvent(
        payment_id=STRIPE_PAYMENT_PREFIX + stripe_id,
        invoice_id=ours.strip(),
        amount=f"{to_major(amount, currency.upper()):f}",
        currency=currency.upper(),
        paid_at=paid_at,
        source="stripe",
    )


def _refund(payload: dict[str, Any]) -> HandlerOutcome:
    charge_id = _mapping(_mapping(payload.get("data")).get("object")).get("id")
    named = f"charge {charge_id}" if isinstance(charge_id, str) and len(charge_id) <= 80 else "a charge"
    return HandlerOutcome(EventStatus.UNMATCHED, f"charge.refunded ({named}): to reconcile by hand, never applied")


def stripe_payment_of(event: InboundEvent) -> PaymentEvent | HandlerOutcome:
    """The payment a Stripe event reports (``invoice.paid``), or the outcome of an event that is none."""
    try:
        payload = _object(event.body)
        _, kind = stripe_envelope(event.body)
    except PaymentProblem as problem:
        return HandlerOutcome(EventStatus.FAILED, str(problem))
    if kind == "charge.refunded":
        return _refund(payload)
    if kind != "invoice.paid":
        return HandlerOutcome(EventStatus.IGNORED, f"a Stripe {kind[:60]} event: nothing to do")
    return stripe_payment(payload)


def handle_stripe(connection: Connection, event: InboundEvent, now: datetime) -> HandlerOutcome:
    payment = stripe_payment_of(event)
    if isinstance(payment, HandlerOutcome):
        return payment
    return outcome_of(apply_payment(connection, payment, now))


def handle_payments(connection: Connection, events: Sequence[InboundEvent], now: datetime) -> list[HandlerOutcome]:
    """Payment webhooks and Stripe events together, in order, through :func:`apply_payments` (set-based)."""
    found = [stripe_payment_of(e) if e.source == EventSource.STRIPE else payment_of(e) for e in events]
    payments = [p for p in found if isinstance(p, PaymentEvent)]
    results = iter(apply_payments(connection, payments, now))
    return [p if isinstance(p, HandlerOutcome) else outcome_of(next(results)) for p in found]


PAYMENT_HANDLERS: dict[EventSource, Handler] = {
    EventSource.PAYMENT: BatchedHandler(handle_payment, handle_payments, PAYMENTS_GROUP),
    EventSource.STRIPE: BatchedHandler(handle_stripe, handle_payments, PAYMENTS_GROUP),
}
