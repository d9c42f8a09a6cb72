"""A payment reported live (the payment webhook, a Stripe event, a RabbitMQ message), applied at once.

In one transaction: the payment is recorded against its invoice, and every reminder of that customer
not yet handed to a provider (planned, rendered, held, waiting to retry) is cancelled, so no send
that has not started can go out after it (promise 2); the next plan decides again with the new
balance. The same ``payment_id`` again is a no-op; one with other values is refused; one for an
invoice the ledger does not know is kept for reconciliation, not guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, func, insert, select, update

from reminder_pipeline.core.money import AmountProblem, parse_major
from reminder_pipeline.core.outbox import NOT_HANDED_OVER, OutboxStatus
from reminder_pipeline.ledger.schema import invoices, outbox, payments


class PaymentOutcome(StrEnum):
    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    """The same payment again: nothing changes."""
    UNMATCHED = "unmatched"
    """An invoice the ledger does not know: kept for reconciliation."""
    REFUSED = "refused"
    """Not a payment the ledger can take as it is (amount, currency, a conflicting repeat)."""


@dataclass(frozen=True)
class PaymentEvent:
    payment_id: str
    invoice_id: str
    amount: str
    """A decimal string in major units (``"120.50"``)."""
    currency: str
    paid_at: datetime
    source: str
    """Where it came from (``webhook``, ``stripe``, ``rabbitmq``), kept as the payment's method and source."""


@dataclass(frozen=True)
class PaymentResult:
    outcome: PaymentOutcome
    customer_id: str | None = None
    cancelled: int = 0
    detail: str = ""


def apply_payment(connection: Connection, event: PaymentEvent, now: datetime) -> PaymentResult:
    """Record ``event`` and cancel its customer's pending reminders, in the caller's transaction."""
    invoice = connection.execute(
        select(invoices.c.customer_id, invoices.c.currency).where(invoices.c.invoice_id == event.invoice_id)
    ).one_or_none()
    if invoice is None:
        return PaymentResult(PaymentOutcome.UNMATCHED, detail="no such invoice in the ledger")
    currency = event.currency.strip().upper()
    if currency != invoice.currency:
        return PaymentResult(PaymentOutcome.REFUSED, detail=f"paid in {currency}, the invoice is in {invoice.currency}")
    try:
        amount = parse_major(event.amount, currency)
    except AmountProblem as problem:
        return PaymentResult(PaymentOutcome.REFUSED, detail=str(problem))
    if amount <= 0:
        return PaymentResult(PaymentOutcome.REFUSED, detail="a payment must be a positive amount")
    values = {
        "payment_id": event.payment_id,
        "invoice_id": event.invoice_id,
        "customer_id": invoice.customer_id,
        "amount_minor": amount,
        "currency": currency,
        "paid_date": event.paid_at.date(),
    }
    known = connection.execute(
        select(*[payments.c[c] for c in values]).where(payments.c.payment_id == event.payment_id)
    ).one_or_none()
    if known is not None:
        if dict(known._mapping) == values:
            return PaymentResult(PaymentOutcome.DUPLICATE, invoice.customer_id)
        return PaymentResult(
            PaymentOutcome.REFUSED, invoice.customer_id, detail="the same payment_id with other values"
        )
    connection.execute(
        insert(payments).values(
            **values, method=event.source, known_on=event.paid_at.date(), source=f"{event.source}:{event.payment_id}"
        )
    )
    cancelled = connection.execute(
        update(outbox)
        .where(outbox.c.customer_id == invoice.customer_id, outbox.c.status.in_(NOT_HANDED_OVER))
        .values(
            status=OutboxStatus.CANCELLED,
            status_reason=f"a payment arrived ({event.source}) before it was sent",
            updated_at=func.now(),
        )
    ).rowcount
    return PaymentResult(PaymentOutcome.RECORDED, invoice.customer_id, int(cancelled))
