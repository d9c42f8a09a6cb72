"""Work for a person that listening opens: a dispute to look into, a call to make, a payment a customer
says they made, a reply too unclear to act on, a sender who could be several customers.

A task is opened once per ``dedupe_key`` (the same reply or event handled again opens nothing more).
Its ``reason`` is written for the person and never holds the customer's address, number or words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection

from reminder_pipeline.core.tasks import TaskStatus
from reminder_pipeline.ledger import listening as queries


class TaskKind(StrEnum):
    DISPUTE = "dispute"
    """The customer disputes what they are asked to pay: the ladder is paused until it is resolved."""
    CALL_REQUEST = "call_request"
    """The customer asked to be called: a collector's task."""
    PAYMENT_CLAIMED = "payment_claimed"
    """The customer says they paid already: find the payment (reconciliation)."""
    UNCLEAR_REPLY = "unclear_reply"
    """A reply the classifier was not sure enough of to act on."""
    UNKNOWN_SENDER = "unknown_sender"
    """A reply from an address or number that matches several customers (never guessed at)."""
    OPT_IN_REQUEST = "opt_in_request"
    """Free text that reads like a wish to hear from us again: only a keyword opts back in by itself."""


@dataclass(frozen=True)
class Task:
    dedupe_key: str
    kind: TaskKind
    reason: str
    source: str
    """What opened it (``reply:sms:SM…``, ``event:sendgrid:…``), to find the evidence."""
    customer_id: str | None = None


def open_task(connection: Connection, task: Task, now: datetime) -> bool:
    """Open ``task`` in the caller's transaction unless one with its key exists; True: it is new."""
    return queries.open_task(
        connection,
        {
            "dedupe_key": task.dedupe_key[:200],
            "customer_id": task.customer_id,
            "kind": task.kind.value,
            "status": TaskStatus.OPEN.value,
            "reason": task.reason[:300],
            "source": task.source[:60],
            "created_at": now,
        },
    )
