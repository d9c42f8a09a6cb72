"""What providers tell us about the messages we sent: Twilio status callbacks and SendGrid event batches.

Each provider event is stored once (Twilio ``MessageSid:MessageStatus:ErrorCode``, SendGrid
``sg_event_id``) in ``delivery_events``, linked to its outbox row by the reminder key it carries, else
by the provider's message id; then the row is *settled* from all its events together:

- statuses are ranked (queued < sending < sent < delivered; processed < deferred < delivered) and a
  row moves only forward: ``sent`` → ``delivered`` or ``failed``, never back from either, whatever
  order the events came in; a non-final event only advances ``provider_status``.
- the first final event stored wins. Twilio never reports a message both delivered and undelivered.
  SendGrid can: an *asynchronous bounce* (the receiving server took the mail, then bounced it)
  arrives after ``delivered``. The row then stays ``delivered`` — the step counted as a contact, and a
  second message for it would break the one-a-day promise — but the bounce still marks the address
  refused, so the next steps go by another channel.
- an open, a click, a spam report or an unsubscribe proves the mail arrived: it settles a ``sent``
  row as ``delivered`` when the ``delivered`` event itself is late or lost.
- a failure (Twilio undelivered/failed, SendGrid bounce, ``blocked``, dropped) fails the row with the
  error code in ``last_error``; the step falls back to its next channel under the same caps, or a
  collector's task (:func:`~reminder_pipeline.delivery.follow_up.plan_follow_ups`, in the same
  transaction; the fallback is left ``planned`` and rendered by the next ``delivery_status`` run).
- a bounce, ``blocked`` or an undelivered SMS about the number marks the contact refused; a spam
  report, an unsubscribe, a drop for an unsubscribed address or a Twilio 21610 opts the customer out
  of the channel and cancels their pending rows on it.

An event about a message the ledger does not know (yet) is kept unlinked: ``unmatched``. A callback
can outrun the send's own answer (the row is still ``sending``, without the provider's id), so
:func:`settle_pending` links such events later and settles the rows they name.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import parse_qsl

import polars as pl
from sqlalchemy import Connection

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.core.policy.config import Policy
from reminder_pipeline.delivery.follow_up import plan_follow_ups
from reminder_pipeline.ledger import listening as queries
from reminder_pipeline.ledger import listening_batch as many
from reminder_pipeline.ledger.delivery import mark_refused
from reminder_pipeline.ledger.listening import MessageRow
from reminder_pipeline.ledger.schema import outbox
from reminder_pipeline.providers.redaction import redact

S = OutboxStatus
TWILIO, SENDGRID = "twilio", "sendgrid"
CHANNEL_OF = {TWILIO: Channel.SMS.value, SENDGRID: Channel.EMAIL.value}
FINAL_RANK = 10
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PROMOTED_FROM = (S.UNKNOWN, S.UNRESOLVED)
SETTLED_FROM = (S.SENT, *PROMOTED_FROM)
"""Rows a provider's event can move (:func:`settle`; one ``PROMOTED_FROM`` becomes ``sent`` first)."""


class ContactEffect(StrEnum):
    REFUSED = "refused"
    """The provider refused the address or number for good."""
    OPTED_OUT = "opted_out"
    """The customer does not want the channel any more."""


@dataclass(frozen=True)
class Meaning:
    rank: int
    final: OutboxStatus | None = None
    contact: ContactEffect | None = None


TWILIO_STATUSES = {
    "accepted": Meaning(1),
    "scheduled": Meaning(1),
    "queued": Meaning(1),
    "sending": Meaning(2),
    "sent": Meaning(3),
    "delivered": Meaning(FINAL_RANK, S.DELIVERED),
    "read": Meaning(FINAL_RANK + 1, S.DELIVERED),
    "undelivered": Meaning(FINAL_RANK, S.FAILED, ContactEffect.REFUSED),
    "failed": Meaning(FINAL_RANK, S.FAILED),
    "canceled": Meaning(FINAL_RANK, S.FAILED),
}
TWILIO_OPTED_OUT = "21610"
TWILIO_INVALID_NUMBER = frozenset({"21211", "21612", "21614"})
TWILIO_NOT_ABOUT_THE_NUMBER = frozenset({"30001", "30002", "30007", "30009", "30010", "30034"})
"""Undelivered for reasons of ours or the message's (queue overflow, our account suspended, carrier
filtering, a missing segment, the price cap, an unregistered sender): the number itself is fine."""

SENDGRID_EVENTS = {
    "processed": Meaning(1),
    "deferred": Meaning(2),
    "delivered": Meaning(FINAL_RANK, S.DELIVERED),
    "open": Meaning(FINAL_RANK + 1, S.DELIVERED),
    "click": Meaning(FINAL_RANK + 1, S.DELIVERED),
    "spamreport": Meaning(FINAL_RANK + 1, S.DELIVERED, ContactEffect.OPTED_OUT),
    "unsubscribe": Meaning(FINAL_RANK + 1, S.DELIVERED, ContactEffect.OPTED_OUT),
    "group_unsubscribe": Meaning(FINAL_RANK + 1, S.DELIVERED, ContactEffect.OPTED_OUT),
    "group_resubscribe": Meaning(0),
    "bounce": Meaning(FINAL_RANK, S.FAILED, ContactEffect.REFUSED),
    "blocked": Meaning(FINAL_RANK, S.FAILED, ContactEffect.REFUSED),
    "dropped": Meaning(FINAL_RANK, S.FAILED),
    "not_delivered": Meaning(FINAL_RANK, S.FAILED),
}
"""``not_delivered``: SendGrid's activity feed's word, from the daily reconciliation (no reason given)."""
DROPPED_REFUSED = ("bounced address", "invalid")
DROPPED_OPTED_OUT = ("unsubscribed address", "spam reporting address")
DECISIVE = sorted(
    {name for name, m in {**TWILIO_STATUSES, **SENDGRID_EVENTS}.items() if m.final is not None or m.contact}
)
"""Event names that settle a row (or change a contact): what :func:`settle_pending` looks for."""


class EventProblem(ValueError):
    """A request body that is not what the provider sends."""


@dataclass(frozen=True)
class ProviderEvent:
    provider: str
    provider_event_id: str
    event: str
    provider_id: str | None
    reminder_key: str | None
    error_code: str | None
    detail: str
    occurred_at: datetime


def meaning_of(event: ProviderEvent) -> Meaning:
    """What ``event`` says of its message and of the customer's contact."""
    if event.provider == TWILIO:
        found = TWILIO_STATUSES.get(event.event, Meaning(0))
        if found.final is not S.FAILED:
            return found
        code = event.error_code or ""
        if code == TWILIO_OPTED_OUT:
            return Meaning(found.rank, S.FAILED, ContactEffect.OPTED_OUT)
        about_number = code in TWILIO_INVALID_NUMBER or (
            event.event == "undelivered" and code not in TWILIO_NOT_ABOUT_THE_NUMBER
        )
        return Meaning(found.rank, S.FAILED, ContactEffect.REFUSED if about_number else None)
    found = SENDGRID_EVENTS.get(event.event, Meaning(0))
    if event.event == "dropped":
        reason = event.detail.lower()
        if any(r in reason for r in DROPPED_OPTED_OUT):
            return Meaning(found.rank, S.FAILED, ContactEffect.OPTED_OUT)
        if any(r in reason for r in DROPPED_REFUSED):
            return Meaning(found.rank, S.FAILED, ContactEffect.REFUSED)
    return found


def _text(value: object, limit: int) -> str | None:
    return str(value)[:limit] if value not in (None, "") else None


def parse_twilio_status(body: str, received_at: datetime, form: Mapping[str, str] | None = None) -> ProviderEvent:
    """A status callback's form body (with the callback URL's query appended: ``reminder_key``); ``form``: the
    body's fields (the first value of each name), when known already."""
    fields = dict(reversed(parse_qsl(body, keep_blank_values=True))) if form is None else form
    sid, status = (
        fields.get("MessageSid") or fields.get("SmsSid"),
        fields.get("MessageStatus") or fields.get("SmsStatus"),
    )
    if not sid or not status:
        raise EventProblem("a Twilio status callback names MessageSid and MessageStatus")
    code = fields.get("ErrorCode") or ""
    return ProviderEvent(
        provider=TWILIO,
        provider_event_id=f"{sid}:{status}:{code}"[:200],
        event=status.lower()[:24],
        provider_id=sid[:64],
        reminder_key=_text(fields.get("reminder_key"), 300),
        error_code=_text(code, 16),
        detail=f"Twilio: {status}" + (f" (error {code})" if code else ""),
        occurred_at=received_at,
    )


def _sendgrid_event(item: object, received_at: datetime) -> ProviderEvent | None:
    if not isinstance(item, dict) or not item.get("sg_event_id") or not isinstance(item.get("event"), str):
        return None
    name = item["event"].lower()
    if name == "bounce" and str(item.get("type", "")).lower() == "blocked":
        name = "blocked"
    stamp = item.get("timestamp")
    occurred = datetime.fromtimestamp(stamp, UTC) if isinstance(stamp, int | float) and stamp > 0 else received_at
    message_id = item.get("sg_message_id")
    said = item.get("reason") or item.get("response") or item.get("type") or ""
    return ProviderEvent(
        provider=SENDGRID,
        provider_event_id=str(item["sg_event_id"])[:200],
        event=name[:24],
        provider_id=str(message_id).split(".", 1)[0][:64] if message_id else None,
        reminder_key=item["reminder_key"][:300] if isinstance(item.get("reminder_key"), str) else None,
        error_code=_text(item.get("status"), 16) if name in ("bounce", "blocked", "dropped") else None,
        detail=redact(f"SendGrid: {name}" + (f": {said}" if said else "")),
        occurred_at=occurred,
    )


def parse_sendgrid_events(body: str, received_at: datetime) -> tuple[list[ProviderEvent], int]:
    """The events of one Event Webhook batch, and how many items were not events we can read."""
    try:
        items = json.loads(body)
    except ValueError as error:
        raise EventProblem("a SendGrid event batch is a JSON array") from error
    if not isinstance(items, list):
        raise EventProblem("a SendGrid event batch is a JSON array")
    events = [_sendgrid_event(item, received_at) for item in items]
    return [e for e in events if e is not None], sum(e is None for e in events)


@dataclass
class Applied:
    """What a batch of provider events did."""

    new: int = 0
    duplicates: int = 0
    unmatched: int = 0
    moved: Counter[str] = field(default_factory=Counter)
    fallbacks: int = 0
    collector_tasks: int = 0
    contacts: Counter[str] = field(default_factory=Counter)

    def describe(self) -> str:
        parts = [f"{self.new} new", f"{self.duplicates} duplicate", f"{self.unmatched} unmatched"]
        parts += [f"{n} {status}" for status, n in sorted(self.moved.items())]
        parts += [f"{n} contact {effect}" for effect, n in sorted(self.contacts.items())]
        if self.fallbacks or self.collector_tasks:
            parts.append(f"{self.fallbacks} fallback, {self.collector_tasks} collector task")
        return ", ".join(parts)


def change_contact(connection: Connection, row: MessageRow, meaning: Meaning, now: datetime, applied: Applied) -> None:
    if meaning.contact is None or row.recipient is None:
        return
    opted_out = meaning.contact is ContactEffect.OPTED_OUT
    refusal = pl.DataFrame(
        {"customer_id": [row.customer_id], "channel": [row.channel], "recipient": [row.recipient]},
        schema={"customer_id": pl.String, "channel": pl.String, "recipient": pl.String},
    ).with_columns(pl.lit(opted_out).alias("opted_out"))
    if mark_refused(connection, refusal, now):
        applied.contacts[meaning.contact.value] += 1
    if opted_out:
        reason = f"the customer opted out of {row.channel} at the provider"
        queries.cancel_pending(connection, row.customer_id, reason, row.channel)


def stored_meaning(row: dict[str, object], provider: str) -> Meaning:
    """The meaning of an event as ``delivery_events`` keeps it."""
    code = row.get("error_code")
    stored = ProviderEvent(
        provider, "", str(row["event"]), None, None, str(code) if code else None, str(row.get("detail") or ""), EPOCH
    )
    return meaning_of(stored)


def first_final(events: list[dict[str, object]], provider: str) -> dict[str, object] | None:
    """The first final event stored (the one that settles the row); None: none yet."""
    return next((e for e in events if stored_meaning(e, provider).final is not None), None)


def highest_rank(events: list[dict[str, object]], provider: str) -> str:
    """The name of the highest-ranked of ``events`` (what ``provider_status`` advances to)."""
    return str(max(events, key=lambda e: stored_meaning(e, provider).rank)["event"])


def rank(provider: str, status: str | None) -> int:
    table = TWILIO_STATUSES if provider == TWILIO else SENDGRID_EVENTS
    return table.get(status or "", Meaning(0)).rank


def final_values(final: dict[str, object], provider: str) -> dict[str, object]:
    """What the first final event sets on a ``sent`` row: its status, and for a failure the error."""
    status = stored_meaning(final, provider).final
    values: dict[str, object] = {"status": str(status), "provider_status": str(final["event"])}
    if status is S.FAILED:
        code = final["error_code"] or final["event"]
        values["last_error"] = redact(f"{code}: {final['detail'] or ''}")[:200]
    return values


def promotion_values(row: MessageRow, events: list[dict[str, object]]) -> dict[str, object]:
    """What a provider's events set on an ``unknown`` or ``unresolved`` row: ``sent``, as a lookup would find."""
    provider_id = next((str(e["provider_id"]) for e in events if e["provider_id"]), row.provider_id)
    return {"status": S.SENT.value, "provider_id": provider_id, "sent_at": outbox.c.sending_at}


def _promote(connection: Connection, row: MessageRow, events: list[dict[str, object]], applied: Applied) -> MessageRow:
    """An ``unknown`` or ``unresolved`` row the provider reports on is one it has."""
    if not queries.move_message(connection, row.outbox_id, [row.status], promotion_values(row, events)):
        return row
    applied.moved[S.SENT.value] += 1
    return queries.message_row(connection, row.outbox_id) or row


def settle(connection: Connection, policy: Policy, outbox_id: int, provider: str, applied: Applied) -> None:
    """Move the row as its events together say (forward only), with its follow-up after a failure."""
    row = queries.message_row(connection, outbox_id)
    events = queries.events_of(connection, outbox_id)
    if row is None or not events:
        return
    if row.status in PROMOTED_FROM:
        row = _promote(connection, row, events, applied)
    if row.status != S.SENT:
        return
    final = first_final(events, provider)
    if final is None:
        best = highest_rank(events, provider)
        if rank(provider, best) > rank(provider, row.provider_status):
            queries.move_message(connection, outbox_id, [S.SENT], {"provider_status": best})
        return
    values = final_values(final, provider)
    if not queries.move_message(connection, outbox_id, [S.SENT], values):
        return
    applied.moved[str(values["status"])] += 1
    if values["status"] == S.FAILED:
        made = plan_follow_ups(connection, policy, pl.Series("outbox_id", [outbox_id], dtype=pl.Int64))
        planned = sum(1 for r in made if r["status"] == S.PLANNED.value)
        applied.fallbacks += planned
        applied.collector_tasks += len(made) - planned


def _lock_customers(connection: Connection, rows: list[MessageRow]) -> None:
    """Lock every customer the work touches, in one order: concurrent batches naming the same customers
    (a duplicate event in another batch) then wait for each other instead of deadlocking."""
    many.lock_customers(connection, [row.customer_id for row in rows])


def event_values(event: ProviderEvent, row: MessageRow | None, now: datetime) -> dict[str, object]:
    return {
        "provider": event.provider,
        "provider_event_id": event.provider_event_id,
        "outbox_id": row.outbox_id if row is not None else None,
        "provider_id": event.provider_id,
        "reminder_key": event.reminder_key,
        "event": event.event,
        "error_code": event.error_code,
        "detail": redact(event.detail)[:300],
        "occurred_at": event.occurred_at,
        "received_at": now,
    }


def apply_events(connection: Connection, policy: Policy, events: list[ProviderEvent], now: datetime) -> Applied:
    """Store each event once, change the contacts they speak of, and settle the rows they name.

    Events are stored in the order of their ids, so two batches holding the same events take the
    unique index's locks in the same order.
    """
    applied = Applied()
    new: list[tuple[ProviderEvent, MessageRow]] = []
    for event in sorted(events, key=lambda e: (e.provider, e.provider_event_id)):
        row = queries.find_message(connection, CHANNEL_OF[event.provider], event.reminder_key, event.provider_id)
        if not queries.record_delivery_event(connection, event_values(event, row, now)):
            applied.duplicates += 1
            continue
        applied.new += 1
        if row is None:
            applied.unmatched += 1
        else:
            new.append((event, row))
    _lock_customers(connection, [row for _, row in new])
    for event, row in new:
        change_contact(connection, row, meaning_of(event), now, applied)
    for outbox_id, provider in sorted({row.outbox_id: event.provider for event, row in new}.items()):
        settle(connection, policy, outbox_id, provider, applied)
    return applied


def settle_pending(connection: Connection, policy: Policy, now: datetime) -> Applied:
    """Link events that outran their row's send, apply what they say, and settle every row whose
    decisive events have not moved it yet (a row that was still ``sending`` when they came)."""
    applied = Applied()
    linked: list[tuple[int, MessageRow, str]] = []
    for provider, channel in CHANNEL_OF.items():
        event_ids = queries.link_unmatched(connection, provider, channel)
        applied.new += len(event_ids)
        for event_id, outbox_id in queries.event_rows(connection, event_ids):
            if (row := queries.message_row(connection, outbox_id)) is not None:
                linked.append((event_id, row, provider))
    waiting = [row for i in queries.rows_to_settle(connection, DECISIVE) if (row := queries.message_row(connection, i))]
    _lock_customers(connection, [row for _, row, _ in linked] + waiting)
    touched = {row.outbox_id: provider for _, row, provider in linked}
    for event_id, row, provider in linked:
        stored = [e for e in queries.events_of(connection, row.outbox_id) if e["delivery_event_id"] == event_id]
        if stored:
            change_contact(connection, row, stored_meaning(stored[0], provider), now, applied)
    for row in waiting:
        touched.setdefault(row.outbox_id, TWILIO if row.channel == Channel.SMS.value else SENDGRID)
    for outbox_id, provider in sorted(touched.items()):
        settle(connection, policy, outbox_id, provider, applied)
    return applied
