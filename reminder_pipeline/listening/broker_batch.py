"""A batch of payment messages applied to the ledger in one transaction, and what to do with each after.

For each message: a body that is not a payment is dead-lettered without touching the ledger; a
payment is stored in the inbox (``source=broker``, keyed by ``payment_id``) and applied
(:func:`apply_payment`: recorded, its customer's pending reminders cancelled), and its inbox row
marked, all in the one transaction — set-wise for the batch (:func:`store_events`,
:func:`apply_payments`, :func:`mark_many`: a few statements, not a few per message), with the
outcomes of settling the messages one by one in order. The same ``payment_id`` again with the same values is a no-op;
with other values it is dead-lettered, as is a payment the ledger refuses. The caller publishes the
dead letters *before* the commit (``before_commit``) and acknowledges only after it, so a crash at
any point either redelivers the batch (and the inbox makes that a no-op) or has done everything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, select

from reminder_pipeline.core.outbox import OUTBOX_LOCK
from reminder_pipeline.ledger.schema import inbound_events
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.broker_messages import MalformedMessage, decode_body, parse_payment
from reminder_pipeline.listening.inbox import EventSource, EventStatus
from reminder_pipeline.listening.inbox_batch import mark_many, store_events
from reminder_pipeline.listening.payments import PaymentEvent, PaymentOutcome, apply_payments

MAX_DETAIL = 300
"""``inbound_events.detail``'s width."""


class MessageOutcome(StrEnum):
    RECORDED = "recorded"
    """A new payment, recorded; its customer's pending reminders cancelled."""
    ALREADY_RECORDED = "already_recorded"
    """The ledger had this payment already (e.g. from the payment webhook): nothing changed."""
    REDELIVERED = "redelivered"
    """This message was applied before (a redelivery or a duplicate publish): a no-op."""
    UNMATCHED = "unmatched"
    """An invoice the ledger does not know: kept in the inbox for reconciliation."""
    REFUSED = "refused"
    """A payment the ledger cannot take as it is: dead-lettered (and kept in the inbox as failed)."""
    CONFLICT = "conflict"
    """The same ``payment_id`` as an earlier message with other values: dead-lettered."""
    MALFORMED = "malformed"
    """Not a payment message: dead-lettered."""
    LEDGER_ERROR = "ledger_error"
    """The ledger refused to store it while answering otherwise: dead-lettered with the error's class."""


DEAD_LETTERED = frozenset(
    {MessageOutcome.REFUSED, MessageOutcome.CONFLICT, MessageOutcome.MALFORMED, MessageOutcome.LEDGER_ERROR}
)


@dataclass(frozen=True)
class Settlement:
    """What became of one message: acknowledged as it is, or dead-lettered with ``reason`` first."""

    outcome: MessageOutcome
    reason: str = ""
    payment_id: str | None = None
    cancelled: int = 0

    @property
    def dead_letter(self) -> bool:
        return self.outcome in DEAD_LETTERED


def _stored_payment(connection: Connection, payment_id: str) -> PaymentEvent | None:
    body = connection.execute(
        select(inbound_events.c.body).where(
            inbound_events.c.source == EventSource.BROKER, inbound_events.c.dedupe_key == payment_id
        )
    ).scalar_one_or_none()
    if body is None:
        return None
    try:
        return parse_payment(body)
    except MalformedMessage:
        return None


def _same_payment(a: PaymentEvent, b: PaymentEvent) -> bool:
    return (a.invoice_id, a.amount, a.currency, a.paid_at) == (b.invoice_id, b.amount, b.currency, b.paid_at)


_INBOX_STATUS = {
    MessageOutcome.RECORDED: EventStatus.PROCESSED,
    MessageOutcome.ALREADY_RECORDED: EventStatus.IGNORED,
    MessageOutcome.UNMATCHED: EventStatus.UNMATCHED,
}


def _apply_all(
    connection: Connection, read: Sequence[tuple[str, PaymentEvent] | Settlement], now: datetime
) -> list[Settlement]:
    """The settlement of each message read, as applying them one by one in order would give.

    Storing in the inbox reads no payment and applying a payment reads no inbox row, so the batch's
    payments are stored together first, then the newly stored ones applied together, then marked.
    """
    settlements: list[Settlement | None] = [r if isinstance(r, Settlement) else None for r in read]
    payments = [(index, r[0], r[1]) for index, r in enumerate(read) if not isinstance(r, Settlement)]
    ids = store_events(connection, EventSource.BROKER, [(event.payment_id, text) for _, text, event in payments], now)
    fresh: list[tuple[int, int, PaymentEvent]] = []
    for (index, _, event), event_id in zip(payments, ids, strict=True):
        if event_id is None:
            settlements[index] = _repeat(connection, event)
        else:
            fresh.append((index, event_id, event))
    results = apply_payments(connection, [event for _, _, event in fresh], now)
    marks: list[tuple[int, EventStatus, str]] = []
    for (index, event_id, event), result in zip(fresh, results, strict=True):
        settlement = _settlement(result.outcome, result.detail, event.payment_id, result.cancelled)
        settlements[index] = settlement
        detail = settlement.reason or (f"{result.cancelled} pending reminders cancelled" if result.cancelled else "")
        marks.append((event_id, _INBOX_STATUS.get(settlement.outcome, EventStatus.FAILED), detail[:MAX_DETAIL]))
    mark_many(connection, marks, now)
    done = [s for s in settlements if s is not None]
    assert len(done) == len(read), "every message read is settled"
    return done


def _repeat(connection: Connection, event: PaymentEvent) -> Settlement:
    """A ``payment_id`` the inbox has already: a redelivery of the same payment, or a conflicting one."""
    earlier = _stored_payment(connection, event.payment_id)
    if earlier is not None and _same_payment(earlier, event):
        return Settlement(MessageOutcome.REDELIVERED, payment_id=event.payment_id)
    return Settlement(
        MessageOutcome.CONFLICT, "payment_id already received with other values", payment_id=event.payment_id
    )


def _settlement(outcome: PaymentOutcome, detail: str, payment_id: str, cancelled: int) -> Settlement:
    if outcome is PaymentOutcome.RECORDED:
        return Settlement(MessageOutcome.RECORDED, payment_id=payment_id, cancelled=cancelled)
    if outcome is PaymentOutcome.DUPLICATE:
        return Settlement(MessageOutcome.ALREADY_RECORDED, "already in the ledger", payment_id)
    if outcome is PaymentOutcome.UNMATCHED:
        return Settlement(MessageOutcome.UNMATCHED, detail or "no such invoice in the ledger", payment_id)
    return Settlement(MessageOutcome.REFUSED, f"refused: {detail}", payment_id)


def read_message(body: bytes) -> tuple[str, PaymentEvent] | Settlement:
    """The body's text and payment, or the dead-letter settlement of a body that is not one."""
    try:
        text = decode_body(body)
        return text, parse_payment(text)
    except MalformedMessage as problem:
        return Settlement(MessageOutcome.MALFORMED, str(problem))


def settle_batch(
    ledger: Ledger,
    bodies: Sequence[bytes],
    now: datetime,
    before_commit: Callable[[list[Settlement]], None] = lambda _: None,
) -> list[Settlement]:
    """Apply ``bodies`` in one ledger transaction; ``before_commit`` sees every settlement (in order)
    while the transaction is still open, to dead-letter what must be (an error there rolls back).

    A database error rolls everything back and surfaces as ``LedgerWriteError``: nothing was applied.
    """
    read = [read_message(body) for body in bodies]
    with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
        settlements = _apply_all(connection, read, now)
        before_commit(settlements)
    return settlements
