"""A payment message from RabbitMQ read as a :class:`PaymentEvent`, or the reason it cannot be one.

The body is the payment webhook's JSON (DESIGN.md): ``{"payment_id", "invoice_id", "amount",
"currency", "paid_at"}``, the amount a decimal string in major units, ``paid_at`` ISO 8601 with
its UTC offset. Anything else is refused with a reason meant for the operator who reads the
dead-letter queue; a reason never quotes the body (it may hold what a customer wrote).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from reminder_pipeline.core.money import AmountProblem, parse_major
from reminder_pipeline.listening.payments import PaymentEvent

SOURCE = "rabbitmq"
"""The payment's method and source in the ledger."""
MAX_BODY_BYTES = 64 * 1024
FIELDS = ("payment_id", "invoice_id", "amount", "currency", "paid_at")
MAX_LENGTHS = {"payment_id": 100, "invoice_id": 64, "amount": 40, "currency": 3, "paid_at": 40}
"""The ledger's column widths (``payments``), so that a long value is refused here, not by the database."""


class MalformedMessage(ValueError):
    """Not a payment message: the reason, fit for the dead-letter queue's header."""


def decode_body(body: bytes) -> str:
    if len(body) > MAX_BODY_BYTES:
        raise MalformedMessage(f"the body is {len(body)} bytes, more than {MAX_BODY_BYTES}")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedMessage("the body is not UTF-8 text") from None


def _fields(text: str) -> dict[str, str]:
    try:
        document: Any = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise MalformedMessage("the body is not JSON") from None
    if not isinstance(document, dict):
        raise MalformedMessage("the body is JSON but not an object")
    missing = [name for name in FIELDS if name not in document]
    if missing:
        raise MalformedMessage(f"missing fields: {', '.join(missing)}")
    fields: dict[str, str] = {}
    for name in FIELDS:
        value = document[name]
        if not isinstance(value, str):
            raise MalformedMessage(f'{name} must be a string (amounts as decimal strings, e.g. "120.50")')
        value = value.strip()
        if not value:
            raise MalformedMessage(f"{name} is empty")
        if len(value) > MAX_LENGTHS[name]:
            raise MalformedMessage(f"{name} is longer than {MAX_LENGTHS[name]} characters")
        fields[name] = value
    return fields


def _paid_at(text: str) -> datetime:
    try:
        paid_at = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedMessage("paid_at is not an ISO 8601 date and time") from None
    if paid_at.tzinfo is None or paid_at.utcoffset() is None:
        raise MalformedMessage("paid_at has no UTC offset (write it as 2026-03-10T09:30:00Z)")
    return paid_at


def parse_payment(text: str) -> PaymentEvent:
    """The payment in ``text``, or :class:`MalformedMessage` saying what is wrong with it."""
    fields = _fields(text)
    currency = fields["currency"].upper()
    if not (currency.isascii() and currency.isalpha() and len(currency) == 3):
        raise MalformedMessage("currency is not a three-letter ISO 4217 code")
    try:
        amount = parse_major(fields["amount"], currency)
    except AmountProblem as problem:
        raise MalformedMessage(f"bad amount: {problem}") from None
    if amount <= 0:
        raise MalformedMessage("bad amount: a payment must be a positive amount")
    return PaymentEvent(
        payment_id=fields["payment_id"],
        invoice_id=fields["invoice_id"],
        amount=fields["amount"],
        currency=currency,
        paid_at=_paid_at(fields["paid_at"]),
        source=SOURCE,
    )
