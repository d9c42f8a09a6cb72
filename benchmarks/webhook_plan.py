"""What the webhook benchmark's providers will post: the callbacks and events of the messages sent.

A plan is a list of unsigned requests (JSON-ready), shuffled as providers deliver them (out of order)
with retries mixed in (the same request again: a no-op for the app). The load generator signs each
one just before the run, as the provider would (:mod:`benchmarks.webhook_load`).

- Twilio: each SMS gets ``sent`` then ``delivered`` (``undelivered`` with error 30003 for a few),
  one callback per request, to the StatusCallback URL carrying the ``reminder_key``.
- SendGrid: each email gets ``processed``, ``delivered`` (``bounce`` for a few), for some an
  ``open`` and a ``click``; events are batched ``batch_size`` to a POST, and a few events appear
  again in a later batch (SendGrid's own duplicates, deduplicated by ``sg_event_id``).
- Payments: one payment webhook per invoice paid, signed like Stripe's.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any

from benchmarks.webhook_seed import SENT_AT, SentMessage

TWILIO_STATUS_PATH = "/webhooks/twilio/status"
SENDGRID_EVENTS_PATH = "/webhooks/sendgrid/events"
PAYMENT_PATH = "/webhooks/payments"
ACCOUNT_SID = "AC" + "b" * 32
SENDER = "+15005550006"
FAILURE_SHARE = 0.02
OPEN_SHARE = 0.3
CLICK_SHARE = 0.1
EVENT_AGAIN_SHARE = 0.03
"""SendGrid events that come again in a later batch."""


@dataclass(frozen=True)
class Expected:
    """What the ledger must hold once every request of a plan is processed."""

    final_status: dict[str, str]
    """reminder_key -> delivered / failed."""
    provider_events: int
    """Distinct provider events (Twilio callbacks, SendGrid ``sg_event_id``)."""
    payments: int


def _retries(requests: list[dict[str, Any]], share: float, rng: random.Random) -> list[dict[str, Any]]:
    """``requests`` with a ``share`` of them sent again (flagged ``duplicate``), all shuffled."""
    again = [dict(r, duplicate=True) for r in rng.sample(requests, int(len(requests) * share))]
    mixed = requests + again
    rng.shuffle(mixed)
    return mixed


def twilio_requests(messages: list[SentMessage], rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, str]]:
    requests: list[dict[str, Any]] = []
    final: dict[str, str] = {}
    for index, message in enumerate(messages):
        failed = rng.random() < FAILURE_SHARE
        final[message.reminder_key] = "failed" if failed else "delivered"
        to = f"+1212{2000000 + index:07d}"
        for status in ("sent", "undelivered" if failed else "delivered"):
            form = {
                "AccountSid": ACCOUNT_SID,
                "ApiVersion": "2010-04-01",
                "From": SENDER,
                "MessageSid": message.provider_id,
                "MessageStatus": status,
                "SmsSid": message.provider_id,
                "SmsStatus": status,
                "To": to,
            }
            if status == "undelivered":
                form["ErrorCode"] = "30003"
            requests.append(
                {
                    "kind": "twilio_status",
                    "path": TWILIO_STATUS_PATH,
                    "query": {"reminder_key": message.reminder_key},
                    "form": form,
                    "events": 1,
                }
            )
    return requests, final


def _sendgrid_event(message: SentMessage, name: str, offset: int, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "email": f"{message.customer_id.lower()}@example.com",
        "timestamp": int(SENT_AT.timestamp()) + offset,
        "event": name,
        "sg_event_id": uuid.UUID(int=random.getrandbits(128), version=4).hex,
        "sg_message_id": f"{message.provider_id}.recvd-5f8d9b7c4-abcde-1-65F0A1B2-3.0",
        "smtp-id": f"<{message.provider_id}@ismtpd0001p1lon1.sendgrid.net>",
        "category": ["second_reminder"],
        "reminder_key": message.reminder_key,
    }
    return event | fields


def sendgrid_requests(
    messages: list[SentMessage], batch_size: int, rng: random.Random
) -> tuple[list[dict[str, Any]], dict[str, str], int]:
    events: list[dict[str, Any]] = []
    final: dict[str, str] = {}
    for message in messages:
        events.append(_sendgrid_event(message, "processed", 1))
        if rng.random() < FAILURE_SHARE:
            final[message.reminder_key] = "failed"
            bounce = {"type": "bounce", "status": "5.1.1", "reason": "550 5.1.1 The email account does not exist"}
            events.append(_sendgrid_event(message, "bounce", 5, **bounce))
            continue
        final[message.reminder_key] = "delivered"
        events.append(_sendgrid_event(message, "delivered", 5, response="250 OK", ip="149.72.1.1"))
        if rng.random() < OPEN_SHARE:
            events.append(_sendgrid_event(message, "open", 600, useragent="Mozilla/5.0", ip="203.0.113.5"))
        if rng.random() < CLICK_SHARE:
            events.append(_sendgrid_event(message, "click", 700, url="https://pay.example.com/i/1"))
    distinct = len(events)
    rng.shuffle(events)
    again = rng.sample(events, int(len(events) * EVENT_AGAIN_SHARE))
    stream = events + again
    requests = [
        {
            "kind": "sendgrid_events",
            "path": SENDGRID_EVENTS_PATH,
            "json": stream[start : start + batch_size],
            "events": len(stream[start : start + batch_size]),
        }
        for start in range(0, len(stream), batch_size)
    ]
    return requests, final, distinct


def payment_requests(invoices: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "kind": "payment",
            "path": PAYMENT_PATH,
            "json": {
                "payment_id": f"PAY-{invoice}",
                "invoice_id": invoice,
                "amount": "100.00",
                "currency": "EUR",
                "paid_at": "2026-03-10T17:30:00+00:00",
            },
            "events": 1,
        }
        for invoice in invoices
    ]


def plan(
    kinds: list[str],
    sms: list[SentMessage],
    email: list[SentMessage],
    invoices: list[str],
    batch_size: int,
    retry_share: float,
    seed: int,
) -> tuple[list[dict[str, Any]], Expected]:
    """The requests of ``kinds`` (twilio_status, sendgrid_events, payment) about these messages, mixed."""
    rng = random.Random(seed)
    random.seed(seed)
    requests: list[dict[str, Any]] = []
    final: dict[str, str] = {}
    provider_events = 0
    if "twilio_status" in kinds:
        made, outcomes = twilio_requests(sms, rng)
        requests += made
        final |= outcomes
        provider_events += len(made)
    if "sendgrid_events" in kinds:
        made, outcomes, distinct = sendgrid_requests(email, batch_size, rng)
        requests += made
        final |= outcomes
        provider_events += distinct
    payments = payment_requests(invoices) if "payment" in kinds else []
    requests += payments
    return _retries(requests, retry_share, rng), Expected(final, provider_events, len(payments))


def together(expectations: list[Expected]) -> Expected:
    """What several plans on distinct messages expect, all at once."""
    final: dict[str, str] = {}
    for expected in expectations:
        final |= expected.final_status
    return Expected(final, sum(e.provider_events for e in expectations), sum(e.payments for e in expectations))
