"""A payment reported live (the payment webhook, a Stripe event, a RabbitMQ message), applied at once.

In one transaction: the payment is recorded against its invoice, and every reminder of that customer
not yet handed to a provider (planned, rendered, held, waiting to retry) is cancelled, so no send
that has not started can go out after it (promise 2); the next plan decides again with the new
balance. The same ``payment_id`` again is a no-op; one with other values is refused; one for an
invoice the ledger does not know is kept for reconciliation, not guessed at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from reminder_pipeline.core.money import AmountProblem, parse_major
from reminder_pipeline.core.outbox import NOT_HANDED_OVER, OutboxStatus
from reminder_pipeline.ledger.planner import not_by_index
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


IN_LIST_ROWS = 500
"""Keys bound in one ``IN (...)`` at most (SQLite allows 32,766 parameters a statement)."""
_INVOICES = select(invoices.c.invoice_id, invoices.c.customer_id, invoices.c.currency).where(
    invoices.c.invoice_id.in_(bindparam("asked", expanding=True))
)
_PAYMENT_VALUES = ("payment_id", "invoice_id", "customer_id", "amount_minor", "currency", "paid_date")
_PAYMENTS = select(*[payments.c[c] for c in _PAYMENT_VALUES]).where(
    payments.c.payment_id.in_(bindparam("asked", expanding=True))
)
_CANCEL = (
    update(outbox)
    .where(
        outbox.c.customer_id.in_(bindparam("paying", expanding=True)),
        # by the customer only: SQLite would walk the status index, every row not handed over yet (the day's
        # rendered messages: 12 ms a batch at 20,000), once five customers pay together
        not_by_index(outbox.c.status).in_(NOT_HANDED_OVER),
    )
    .values(status=OutboxStatus.CANCELLED, status_reason=bindparam("reason"), updated_at=func.now())
    .returning(outbox.c.customer_id)
)


def _cancel_reason(source: str) -> str:
    return f"a payment arrived ({source}) before it was sent"


def _chunks(keys: Sequence[str]) -> list[list[str]]:
    distinct = list(dict.fromkeys(keys))
    return [distinct[i : i + IN_LIST_ROWS] for i in range(0, len(distinct), IN_LIST_ROWS)]


def apply_payment(connection: Connection, event: PaymentEvent, now: datetime) -> PaymentResult:
    """Record ``event`` and cancel its customer's pending reminders, in the caller's transaction."""
    invoice = connection.execute(
        select(invoices.c.customer_id, invoices.c.currency).where(invoices.c.invoice_id == event.invoice_id)
    ).one_or_none()
    values = _checked(event, invoice)
    if isinstance(values, PaymentResult):
        return values
    known = connection.execute(
        select(*[payments.c[c] for c in values]).where(payments.c.payment_id == event.payment_id)
    ).one_or_none()
    if known is not None:
        return _repeated(dict(known._mapping), values)
    connection.execute(insert(payments).values(**_payment_row(event, values)))
    cancelled = connection.execute(
        update(outbox)
        .where(outbox.c.customer_id == values["customer_id"], outbox.c.status.in_(NOT_HANDED_OVER))
        .values(
            status=OutboxStatus.CANCELLED,
            status_reason=_cancel_reason(event.source),
            updated_at=func.now(),
        )
    ).rowcount
    return PaymentResult(PaymentOutcome.RECORDED, str(values["customer_id"]), int(cancelled))


def _repeated(known: dict[str, object], values: dict[str, object]) -> PaymentResult:
    """A payment_id the ledger has: the same payment again (a no-op), or one with other values (refused)."""
    customer_id = str(values["customer_id"])
    if known == values:
        return PaymentResult(PaymentOutcome.DUPLICATE, customer_id)
    return PaymentResult(PaymentOutcome.REFUSED, customer_id, detail="the same payment_id with other values")


def _payment_row(event: PaymentEvent, values: dict[str, object]) -> dict[str, object]:
    return values | {
        "method": event.source,
        "known_on": event.paid_at.date(),
        "source": f"{event.source}:{event.payment_id}",
    }


def _checked(event: PaymentEvent, invoice: Any) -> dict[str, object] | PaymentResult:
    """The payment's ledger values, or why it cannot be taken (the checks of :func:`apply_payment`)."""
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
    return {
        "payment_id": event.payment_id,
        "invoice_id": event.invoice_id,
        "customer_id": invoice.customer_id,
        "amount_minor": amount,
        "currency": currency,
        "paid_date": event.paid_at.date(),
    }


def apply_payments(connection: Connection, events: Sequence[PaymentEvent], now: datetime) -> list[PaymentResult]:
    """:func:`apply_payment` for each of ``events`` in order, with a few multi-row statements for them all.

    The outcomes and the ledger afterwards are those of applying them one by one: a ``payment_id``
    repeated in ``events`` meets the earlier one as a payment already recorded, and the first payment
    recorded for a customer cancels their pending reminders (with its source in the reason), the
    later ones none.
    """
    if not events:
        return []
    found_invoices: dict[str, Any] = {}
    for chunk in _chunks([e.invoice_id for e in events]):
        found_invoices |= {row.invoice_id: row for row in connection.execute(_INVOICES, {"asked": chunk})}
    known: dict[str, dict[str, object]] = {}
    for chunk in _chunks([e.payment_id for e in events]):
        known |= {row.payment_id: dict(row._mapping) for row in connection.execute(_PAYMENTS, {"asked": chunk})}
    results: list[PaymentResult] = []
    new_rows: list[dict[str, object]] = []
    first_of_customer: dict[str, int] = {}
    for index, event in enumerate(events):
        values = _checked(event, found_invoices.get(event.invoice_id))
        if isinstance(values, PaymentResult):
            results.append(values)
            continue
        earlier = known.get(event.payment_id)
        if earlier is not None:
            results.append(_repeated(earlier, values))
            continue
        customer_id = str(values["customer_id"])
        known[event.payment_id] = values
        new_rows.append(_payment_row(event, values))
        first_of_customer.setdefault(customer_id, index)
        results.append(PaymentResult(PaymentOutcome.RECORDED, customer_id))
    if new_rows:
        connection.execute(insert(payments), new_rows)
    cancelled = _cancel_pending(connection, {c: events[i].source for c, i in first_of_customer.items()})
    for customer_id, index in first_of_customer.items():
        results[index] = replace(results[index], cancelled=cancelled.get(customer_id, 0))
    return results


def _cancel_pending(connection: Connection, source_of_customer: dict[str, str]) -> dict[str, int]:
    """Cancel the pending reminders of each customer, with their payment's source in the reason; counts."""
    by_source: dict[str, list[str]] = {}
    for customer_id, source in source_of_customer.items():
        by_source.setdefault(source, []).append(customer_id)
    counts: dict[str, int] = {}
    for source, customers in by_source.items():
        for chunk in _chunks(customers):
            for customer_id in connection.execute(
                _CANCEL, {"paying": chunk, "reason": _cancel_reason(source)}
            ).scalars():
                counts[customer_id] = counts.get(customer_id, 0) + 1
    return counts
