"""The handlers of the providers' webhooks: what each stored inbound event does to the ledger.

Each runs in the inbox's processing transaction (``ledger.begin_write(OUTBOX_LOCK, shared=True)``,
see :mod:`reminder_pipeline.listening.inbox`), so its effects and the event's new status commit
together; it parses the stored body itself (the raw request text) and never raises for what a
provider sent: a body it cannot read is ``failed`` with the reason.

The policy (a step's channels for fallbacks, the sender's name for HELP) is read once from
``$REMINDERS_POLICY`` or the shipped default; :func:`handlers_for` binds another one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache

from sqlalchemy import Connection

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.policy.config import Policy
from reminder_pipeline.listening import delivery_events, replies
from reminder_pipeline.listening.batched import BatchedHandler
from reminder_pipeline.listening.delivery_batch import apply_many
from reminder_pipeline.listening.delivery_events import Applied, EventProblem, ProviderEvent
from reminder_pipeline.listening.inbox import EventSource, EventStatus, Handler, HandlerOutcome, InboundEvent

POLICY_ENV = "REMINDERS_POLICY"
DELIVERY_GROUP = "delivery_events"


@cache
def default_policy() -> Policy:
    return load_policy(os.environ.get(POLICY_ENV) or None)


def _delivery_outcome(applied: Applied, unreadable: int = 0) -> HandlerOutcome:
    detail = applied.describe() + (f", {unreadable} unreadable" if unreadable else "")
    if applied.new and applied.unmatched == applied.new:
        return HandlerOutcome(EventStatus.UNMATCHED, detail)
    if not applied.new:
        nothing_readable = unreadable and not applied.duplicates
        return HandlerOutcome(EventStatus.FAILED if nothing_readable else EventStatus.IGNORED, detail)
    return HandlerOutcome(EventStatus.PROCESSED, detail)


class ProviderHandlers:
    """The four provider handlers, bound to a policy (or to a function that loads it when first needed)."""

    def __init__(self, policy: Policy | Callable[[], Policy]) -> None:
        self._policy = policy

    @property
    def policy(self) -> Policy:
        return self._policy if isinstance(self._policy, Policy) else self._policy()

    def twilio_status(self, connection: Connection, event: InboundEvent, now: datetime) -> HandlerOutcome:
        try:
            parsed = delivery_events.parse_twilio_status(event.body, event.received_at, event.form)
        except EventProblem as problem:
            return HandlerOutcome(EventStatus.FAILED, str(problem))
        return _delivery_outcome(delivery_events.apply_events(connection, self.policy, [parsed], now))

    def sendgrid_events(self, connection: Connection, event: InboundEvent, now: datetime) -> HandlerOutcome:
        try:
            parsed, unreadable = delivery_events.parse_sendgrid_events(event.body, event.received_at)
        except EventProblem as problem:
            return HandlerOutcome(EventStatus.FAILED, str(problem))
        return _delivery_outcome(delivery_events.apply_events(connection, self.policy, parsed, now), unreadable)

    def delivery_events(
        self, connection: Connection, events: Sequence[InboundEvent], now: datetime
    ) -> list[HandlerOutcome]:
        """Twilio callbacks and SendGrid batches together (:func:`~.delivery_batch.apply_many`)."""
        parsed: list[list[ProviderEvent]] = []
        outcomes: list[HandlerOutcome | tuple[int, int]] = []
        for event in events:
            try:
                if event.source == EventSource.TWILIO_STATUS:
                    found, unreadable = (
                        [delivery_events.parse_twilio_status(event.body, event.received_at, event.form)],
                        0,
                    )
                else:
                    found, unreadable = delivery_events.parse_sendgrid_events(event.body, event.received_at)
            except EventProblem as problem:
                outcomes.append(HandlerOutcome(EventStatus.FAILED, str(problem)))
                continue
            outcomes.append((len(parsed), unreadable))
            parsed.append(found)
        applied = apply_many(connection, self.policy, parsed, now)
        return [o if isinstance(o, HandlerOutcome) else _delivery_outcome(applied[o[0]], o[1]) for o in outcomes]

    def twilio_inbound(self, connection: Connection, event: InboundEvent, now: datetime) -> HandlerOutcome:
        try:
            reply = replies.parse_twilio_inbound(event.body, event.received_at)
        except replies.ReplyProblem as problem:
            return HandlerOutcome(EventStatus.FAILED, str(problem))
        return replies.handle_reply(connection, self.policy, reply, now)

    def sendgrid_inbound(self, connection: Connection, event: InboundEvent, now: datetime) -> HandlerOutcome:
        try:
            reply = replies.parse_sendgrid_inbound(event.body, event.received_at)
        except replies.ReplyProblem as problem:
            return HandlerOutcome(EventStatus.FAILED, str(problem))
        return replies.handle_reply(connection, self.policy, reply, now)

    def as_dict(self) -> dict[EventSource, Handler]:
        return {
            EventSource.TWILIO_STATUS: BatchedHandler(self.twilio_status, self.delivery_events, DELIVERY_GROUP),
            EventSource.TWILIO_INBOUND: self.twilio_inbound,
            EventSource.SENDGRID_EVENTS: BatchedHandler(self.sendgrid_events, self.delivery_events, DELIVERY_GROUP),
            EventSource.SENDGRID_INBOUND: self.sendgrid_inbound,
        }


def handlers_for(policy: Policy) -> dict[EventSource, Handler]:
    return ProviderHandlers(policy).as_dict()


HANDLERS: dict[EventSource, Handler] = ProviderHandlers(default_policy).as_dict()
"""The provider sources' handlers (the web app adds the payment and Stripe ones)."""
