"""Collector actions on a customer, each written to the ledger with its audit row in one transaction.

What each one writes — and so what the next plan (``plan_and_record_day``) does:

- **pause** until a date: a ``reminder_pauses`` row; the plan skips the customer (``paused``) up to
  that date included, and the customer's reminders no provider has yet are cancelled now;
- **resume**: ends the customer's pauses today; the next plan decides as usual;
- **dispute**: a ``disputes`` row on an invoice (or on every open one): the plan never chases it;
- **promise to pay** by a date: a pending ``promises_to_pay`` row; the plan waits until the date plus
  the policy's grace, then escalates if it is broken; pending reminders are cancelled now;
- **call** and its outcome: the audit row alone (a promise made on the call is recorded as a promise).

Every action takes the outbox lock, so it never interleaves with a plan being written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, CursorResult, func, insert, select, update

from reminder_pipeline.collections.sessions import hold_session
from reminder_pipeline.collections.users import Role, User
from reminder_pipeline.core.history import PromiseStatus
from reminder_pipeline.core.outbox import OUTBOX_LOCK
from reminder_pipeline.ledger import listening as queries
from reminder_pipeline.ledger.receivables import paid_per_invoice
from reminder_pipeline.ledger.schema import collector_actions, customers, invoices, reminder_pauses
from reminder_pipeline.ledger.store import Ledger

MAX_NOTE = 2000
MAX_PAUSE_DAYS = 366
MAX_PROMISE_DAYS = 180
SOURCE_PREFIX = "dashboard:"
TAKES = {
    "pause": {"until"},
    "resume": set(),
    "dispute": {"invoice_id"},
    "promise": {"until", "invoice_id", "amount_minor", "currency"},
    "call": {"outcome"},
}
"""What each kind of action takes besides its note: anything else a form sent is dropped, never written."""


class ActionKind(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    DISPUTE = "dispute"
    PROMISE = "promise"
    CALL = "call"


class CallOutcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    WRONG_NUMBER = "wrong_number"
    PROMISED = "promised_to_pay"
    DISPUTED = "disputed"
    REFUSED = "refused"


class ActionProblem(ValueError):
    """An action that cannot be taken as asked (the message says what to change)."""


class NotAllowed(PermissionError):
    """The user's role may not act."""


class SessionEnded(NotAllowed):
    """The session the action came from ended (a logout, a new password or role, the user disabled) before
    the action could be written: nothing was."""


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    customer_id: str
    until: date | None = None
    invoice_id: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    outcome: CallOutcome | None = None
    note: str | None = None


@dataclass(frozen=True)
class Recorded:
    action_id: int
    kind: ActionKind
    detail: str


def _future(day: date, until: date | None, limit: int, what: str) -> date:
    if until is None:
        raise ActionProblem(f"{what} needs a date")
    if until < day or until > day + timedelta(days=limit):
        raise ActionProblem(f"{what}: choose a date from today to {limit} days ahead")
    return until


def _owed(connection: Connection, action: Action) -> int:
    """What the customer owes in the action's currency (on its invoice, when it names one)."""
    only = select(invoices.c.invoice_id).where(invoices.c.customer_id == action.customer_id)
    if action.invoice_id is not None:
        only = only.where(invoices.c.invoice_id == action.invoice_id)
    paid = paid_per_invoice(only=only.subquery())
    left = invoices.c.amount_minor - func.coalesce(paid.c.paid, 0)
    query = (
        select(func.coalesce(func.sum(left), 0))
        .select_from(invoices.outerjoin(paid, paid.c.invoice_id == invoices.c.invoice_id))
        .where(invoices.c.customer_id == action.customer_id, invoices.c.currency == action.currency, left > 0)
    )
    if action.invoice_id is not None:
        query = query.where(invoices.c.invoice_id == action.invoice_id)
    return int(connection.execute(query).scalar_one())


def _check_amount(connection: Connection, action: Action) -> None:
    """A promised amount is more than nothing and at most what is owed: a mistyped one is refused, not kept."""
    if action.amount_minor is None:
        return
    if action.amount_minor <= 0:
        raise ActionProblem("a promised amount must be more than zero (or leave it empty)")
    if action.currency is None or action.amount_minor > _owed(connection, action):
        raise ActionProblem(f"the promised amount is more than the customer owes in {action.currency}")


def _open_invoices(connection: Connection, action: Action) -> list[str]:
    owed = queries.open_invoices_of(connection, action.customer_id)
    if action.invoice_id is None:
        if not owed:
            raise ActionProblem("the customer has no open invoice")
        return owed
    if action.invoice_id not in owed:
        raise ActionProblem("that invoice is not an open invoice of this customer")
    return [action.invoice_id]


def _apply(connection: Connection, action: Action, user: User, day: date, action_id: int) -> tuple[str, str | None]:
    """Write what ``action`` does; returns its detail in words and the id of the row it wrote."""
    source = f"{SOURCE_PREFIX}{user.username}"[:500]
    key = f"{SOURCE_PREFIX}{action_id}"
    customer = action.customer_id
    if action.kind is ActionKind.PAUSE:
        until = _future(day, action.until, MAX_PAUSE_DAYS, "a pause")
        row = connection.execute(
            insert(reminder_pauses).values(
                customer_id=customer, paused_on=day, until_date=until, reason=action.note, created_by=user.username
            )
        )
        cancelled = queries.cancel_pending(connection, customer, f"paused by {user.username} until {until}")
        return f"reminders paused until {until.isoformat()}; {cancelled} pending cancelled", str(_new_id(row))
    if action.kind is ActionKind.RESUME:
        ended = connection.execute(
            update(reminder_pauses)
            .where(reminder_pauses.c.customer_id == customer, reminder_pauses.c.ended_on.is_(None))
            .where(reminder_pauses.c.until_date >= day)
            .values(ended_on=day, ended_by=user.username)
        ).rowcount
        return f"reminders resumed ({ended} pause(s) ended)", None
    if action.kind is ActionKind.DISPUTE:
        disputed = _open_invoices(connection, action)
        for invoice_id in disputed:
            queries.open_dispute(
                connection,
                {
                    "dispute_id": f"{key}:{invoice_id}"[:100],
                    "invoice_id": invoice_id,
                    "opened_on": day,
                    "reason": action.note or f"recorded by {user.username} on the dashboard",
                    "source": source,
                },
            )
        cancelled = queries.cancel_pending(connection, customer, "a dispute recorded by a collector")
        return f"{len(disputed)} invoice(s) disputed; {cancelled} pending cancelled", key
    if action.kind is ActionKind.PROMISE:
        promised = _future(day, action.until, MAX_PROMISE_DAYS, "a promise to pay")
        if action.invoice_id is not None:
            _open_invoices(connection, action)
        queries.record_promise(
            connection,
            {
                "promise_id": key,
                "customer_id": customer,
                "invoice_id": action.invoice_id,
                "promised_date": promised,
                "amount_minor": action.amount_minor,
                "currency": action.currency,
                "made_on": day,
                "status": PromiseStatus.PENDING.value,
                "source": source,
            },
        )
        cancelled = queries.cancel_pending(connection, customer, f"a promise to pay by {promised}")
        return f"promise to pay by {promised.isoformat()}; {cancelled} pending cancelled", key
    if action.outcome is None:
        raise ActionProblem("a call needs its outcome")
    return f"call logged: {action.outcome.value.replace('_', ' ')}", None


def record_action(
    ledger: Ledger, action: Action, user: User, now: datetime, day: date, session: str | None = None
) -> Recorded:
    """Take ``action`` for ``user`` on business day ``day``: its effect and its audit row, or nothing.

    ``session``: the digest of the dashboard session the action comes from. Its row is read again, and
    held, in the action's own transaction, with the user's role as it is then: a logout or a change of
    the user that committed after the request read its session refuses the action (SessionEnded, or
    NotAllowed for a role that may no longer act) instead of letting it finish with the old rights."""
    if not user.role.can_act:
        raise NotAllowed(f"the {user.role.value} role may not act on customers")
    note = (action.note or "").strip()[:MAX_NOTE] or None
    taken = TAKES[action.kind.value]
    action = replace(
        action,
        note=note,
        until=action.until if "until" in taken else None,
        invoice_id=action.invoice_id if "invoice_id" in taken else None,
        amount_minor=action.amount_minor if "amount_minor" in taken else None,
        currency=action.currency if "currency" in taken else None,
        outcome=action.outcome if "outcome" in taken else None,
    )
    with ledger.begin_write(OUTBOX_LOCK) as connection:
        if session is not None:
            user = _still_signed_in(connection, session)
        query = select(customers.c.customer_id).where(customers.c.customer_id == action.customer_id)
        exists = connection.execute(query)
        if exists.first() is None:
            raise ActionProblem("no such customer")
        queries.lock_customer(connection, action.customer_id)
        _check_amount(connection, action)
        row = connection.execute(
            insert(collector_actions).values(
                customer_id=action.customer_id,
                kind=action.kind.value,
                actor=user.username,
                acted_at=now,
                business_date=day,
                until_date=action.until,
                invoice_id=action.invoice_id,
                amount_minor=action.amount_minor,
                currency=action.currency,
                outcome=action.outcome.value if action.outcome else None,
                note=note,
            )
        )
        action_id = _new_id(row)
        detail, record_id = _apply(connection, action, user, day, action_id)
        connection.execute(
            update(collector_actions)
            .where(collector_actions.c.action_id == action_id)
            .values(record_id=record_id, note=_with_detail(note, detail))
        )
    return Recorded(action_id, action.kind, detail)


def _still_signed_in(connection: Connection, session: str) -> User:
    held = hold_session(connection, session)
    if held is None:
        raise SessionEnded("the session has ended: log in again")
    user = User(held.user_id, held.username, Role(held.role))
    if not user.role.can_act:
        raise NotAllowed(f"the {user.role.value} role may not act on customers")
    return user


def _with_detail(note: str | None, detail: str) -> str:
    return f"{detail} — {note}" if note else detail


def customer_currency(connection: Connection, customer_id: str) -> str | None:
    """The currency of the customer's oldest invoice (for a promise's amount)."""
    query = (
        select(invoices.c.currency).where(invoices.c.customer_id == customer_id).order_by(invoices.c.due_date).limit(1)
    )
    return connection.execute(query).scalar_one_or_none()


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])
