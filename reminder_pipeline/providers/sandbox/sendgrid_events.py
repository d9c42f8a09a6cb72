"""SendGrid's Event Webhook as the sandbox posts it (PROVIDERS.md §7): JSON arrays of events, signed.

An event has SendGrid's fields (``email``, ``timestamp``, ``event``, ``smtp-id``, ``sg_event_id``,
``sg_message_id`` starting with the ``X-Message-Id``, ``category`` as it was sent) and the message's
custom args at the top level (never over a reserved field). Events wait in a :class:`EventBatcher`
and leave together, as SendGrid's do (it waits 30 s; the sandbox a configured moment).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from reminder_pipeline.providers.sandbox.fates import BounceType, EmailEvent, EmailFate
from reminder_pipeline.providers.sandbox.poster import USER_AGENT_HEADER, WebhookRequest
from reminder_pipeline.providers.sandbox.signing import (
    SENDGRID_SIGNATURE_HEADER,
    SENDGRID_TIMESTAMP_HEADER,
    EventWebhookKey,
)
from reminder_pipeline.providers.sandbox.store import Record

Event = dict[str, Any]
USER_AGENT = "SendGrid Event API"
LINK = re.compile(r"""https?://[^\s"'<>]+""")
HREF = re.compile(r"""href\s*=\s*["'](https?://[^"']+)["']""", re.IGNORECASE)
SENDING_IP = "149.72.0.1"
RECIPIENT_IP = "203.0.113.7"
RECIPIENT_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
DETAILS: dict[EmailEvent, dict[str, Any]] = {
    EmailEvent.PROCESSED: {},
    EmailEvent.DEFERRED: {"response": "451 4.7.1 Please try again later", "attempt": "1"},
    EmailEvent.DELIVERED: {"response": "250 2.0.0 OK accepted for delivery", "ip": SENDING_IP, "tls": 1},
    EmailEvent.DROPPED: {"reason": "Bounced Address", "status": "5.0.0"},
    EmailEvent.OPEN: {"ip": RECIPIENT_IP, "useragent": RECIPIENT_AGENT, "sg_machine_open": False},
    EmailEvent.CLICK: {"ip": RECIPIENT_IP, "useragent": RECIPIENT_AGENT},
    EmailEvent.SPAMREPORT: {},
    EmailEvent.UNSUBSCRIBE: {},
}
BOUNCES: dict[BounceType, dict[str, Any]] = {
    BounceType.BOUNCE: {
        "type": "bounce",
        "status": "5.1.1",
        "reason": "550 5.1.1 The email account that you tried to reach does not exist.",
        "bounce_classification": "Invalid Address",
        "ip": SENDING_IP,
    },
    BounceType.BLOCKED: {
        "type": "blocked",
        "status": "5.7.1",
        "reason": "550 5.7.1 Message rejected due to the sender's reputation or local policy.",
        "bounce_classification": "Reputation",
        "ip": SENDING_IP,
    },
}


def first_link(record: Record) -> str | None:
    """The first link a recipient could click: in the HTML part, else in the text."""
    html, text = record.get("html") or "", record.get("body") or ""
    href = HREF.search(html)
    if href:
        return href.group(1)
    link = LINK.search(text)
    return link.group(0) if link else None


def event_id() -> str:
    """A ``sg_event_id``: a base64url UUIDv4, as SendGrid's are."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")


def events_for(record: Record, fate: EmailFate, happened_at: datetime) -> list[Event]:
    """The events of the email ``record``, in the order they happened."""
    stamp = int(happened_at.timestamp())
    base: Event = dict(record.get("custom_args") or {})
    categories = list(record.get("categories") or [])
    if categories:
        base["category"] = categories
    base |= {
        "email": record["to"],
        "timestamp": stamp,
        "smtp-id": f"<{record['provider_id']}@ismtpd-sandbox>",
        "sg_message_id": record["sg_message_id"],
    }
    events = []
    for name in fate.events:
        event = base | {"event": name.value, "sg_event_id": event_id()} | DETAILS.get(name, {})
        if name is EmailEvent.BOUNCE:
            event |= BOUNCES[fate.bounce_type or BounceType.BOUNCE]
        if name is EmailEvent.CLICK:
            event |= {"url": first_link(record), "url_offset": {"index": 0, "type": "html"}}
        events.append(event)
    return events


def signed_batch(key: EventWebhookKey, url: str, events: list[Event], timestamp: int) -> WebhookRequest:
    """The POST of a batch: the JSON array and SendGrid's CRLF, signed at ``timestamp``."""
    body = (json.dumps(events, ensure_ascii=False, separators=(",", ":")) + "\r\n").encode("utf-8")
    stamp = str(timestamp)
    headers = (
        ("Content-Type", "application/json"),
        (SENDGRID_SIGNATURE_HEADER, key.sign(stamp, body)),
        (SENDGRID_TIMESTAMP_HEADER, stamp),
        (USER_AGENT_HEADER, USER_AGENT),
    )
    return WebhookRequest(url, body, headers)


class EventBatcher:
    """Collects events and hands them on in batches, ``interval`` after the first one of a batch.

    An event added ``later`` (a duplicate) goes in the batch after the one being filled, as
    SendGrid's duplicates arrive: the same event again in another POST.
    """

    def __init__(
        self,
        interval_seconds: float,
        max_events: int,
        schedule: Callable[[float, Callable[[], None]], bool],
        send: Callable[[list[Event]], None],
    ) -> None:
        self.interval_seconds = interval_seconds
        self.max_events = max_events
        self._schedule = schedule
        self._send = send
        self._lock = threading.Lock()
        self._filling: list[Event] = []
        self._next: list[Event] = []
        self._flush_planned = False

    def add(self, event: Event, *, later: bool = False) -> None:
        with self._lock:
            (self._next if later else self._filling).append(event)
            plan = not self._flush_planned
            self._flush_planned = True
            soon = len(self._filling) >= self.max_events
        if plan or soon:
            self._plan(0.0 if soon else self.interval_seconds)

    def waiting(self) -> int:
        with self._lock:
            return len(self._filling) + len(self._next)

    def _plan(self, seconds: float) -> None:
        if not self._schedule(seconds, self._flush):
            with self._lock:  # the sandbox is stopping: nothing more goes out
                self._filling, self._next, self._flush_planned = [], [], False

    def _flush(self) -> None:
        with self._lock:
            batch = self._filling[: self.max_events]
            self._filling = self._filling[self.max_events :] + self._next
            self._next = []
            again = bool(self._filling)
            self._flush_planned = again
        if again:
            self._plan(self.interval_seconds)
        if batch:
            self._send(batch)
