"""Each webhook as a kind of request: how to make a fresh authentic one, and which headers sign it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import Connection, select

from reminder_pipeline.ledger.schema import inbound_events
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.inbox import EventSource, EventStatus, Handler, HandlerOutcome, InboundEvent
from reminder_pipeline_tests.web import signing
from reminder_pipeline_tests.web.signing import Post, Secrets

HELP_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Reply STOP to opt out.</Message></Response>'


def provider_event(connection: Connection, event: InboundEvent, now: datetime) -> HandlerOutcome:
    """Stands in for the processing handlers (another part): every event is about a message we do not know,
    and an inbound ``HELP`` is answered."""
    if event.source is EventSource.TWILIO_INBOUND and "Body=HELP" in event.body:
        return HandlerOutcome(EventStatus.PROCESSED, "help answered", reply=HELP_TWIML)
    return HandlerOutcome(EventStatus.UNMATCHED, "no such message in the ledger")


PROVIDER_SOURCES = (
    EventSource.TWILIO_STATUS,
    EventSource.TWILIO_INBOUND,
    EventSource.SENDGRID_EVENTS,
    EventSource.SENDGRID_INBOUND,
)
TEST_HANDLERS: dict[EventSource, Handler] = dict.fromkeys(PROVIDER_SOURCES, provider_event)


@dataclass(frozen=True)
class Kind:
    name: str
    source: EventSource
    make: Callable[[Secrets, datetime, int], Post]
    """An authentic request, the ``n``-th of its kind (each one a new event), signed at the given time."""
    signature_headers: tuple[str, ...]
    timestamped: bool
    """Whether the signature carries a time (Twilio's and basic auth do not: a replay is a no-op instead)."""

    def __str__(self) -> str:
        return self.name


def _sid(n: int) -> str:
    return f"SM{n:032x}"


KINDS = [
    Kind(
        "twilio_status",
        EventSource.TWILIO_STATUS,
        lambda s, at, n: signing.twilio_post(
            s, "/webhooks/twilio/status", signing.status_params(_sid(n)), query=f"reminder_key=C{n:05d}%2Femail"
        ),
        ("X-Twilio-Signature",),
        False,
    ),
    Kind(
        "twilio_inbound",
        EventSource.TWILIO_INBOUND,
        lambda s, at, n: signing.twilio_post(s, "/webhooks/twilio/inbound", signing.inbound_sms(_sid(n))),
        ("X-Twilio-Signature",),
        False,
    ),
    Kind(
        "sendgrid_events",
        EventSource.SENDGRID_EVENTS,
        lambda s, at, n: signing.sendgrid_post(s, [signing.sendgrid_event(sg_event_id=f"ev{n}")], at),
        ("X-Twilio-Email-Event-Webhook-Signature",),
        True,
    ),
    Kind(
        "sendgrid_inbound",
        EventSource.SENDGRID_INBOUND,
        lambda s, at, n: signing.inbound_post(s, signing.inbound_email(text=f"reply number {n}")),
        ("Authorization",),
        False,
    ),
    Kind(
        "payments",
        EventSource.PAYMENT,
        lambda s, at, n: signing.payment_post(s, signing.payment(f"P-{n}", invoice_id=f"NOT-OURS-{n}"), at),
        ("X-Reminders-Signature",),
        True,
    ),
    Kind(
        "stripe",
        EventSource.STRIPE,
        lambda s, at, n: signing.stripe_post(s, signing.invoice_paid(f"evt_{n}", invoice_id=f"NOT-OURS-{n}"), at),
        ("Stripe-Signature",),
        True,
    ),
]
BY_NAME = {kind.name: kind for kind in KINDS}


def send(client: httpx.Client, post: Post) -> httpx.Response:
    return client.post(post.path, content=post.body, headers=post.headers)


def inbox(ledger: Ledger) -> list[dict[str, Any]]:
    with ledger.begin() as connection:
        found = connection.execute(select(inbound_events).order_by(inbound_events.c.event_id)).mappings()
        return [dict(r) for r in found]
