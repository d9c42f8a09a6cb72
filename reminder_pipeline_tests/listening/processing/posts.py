"""Provider posts as the web app stores them, run through the inbox and the processing handlers."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.handlers import handlers_for
from reminder_pipeline.listening.inbox import (
    INBOX_LOCK,
    EventSource,
    InboundEvent,
    Processed,
    process_event,
    store_event,
)
from reminder_pipeline_tests.delivery.crowd import POLICY

HANDLERS = handlers_for(POLICY)


def twilio_status(sid: str, status: str, *, error_code: str = "", reminder_key: str | None = None) -> str:
    """A status callback's form body, with the callback URL's ``reminder_key`` appended as the web app does."""
    fields = {"AccountSid": "AC" + "0" * 32, "MessageSid": sid, "SmsSid": sid, "MessageStatus": status}
    fields |= {"SmsStatus": status, "To": "+12025550100", "ApiVersion": "2010-04-01"}
    if error_code:
        fields["ErrorCode"] = error_code
    body = urlencode(fields)
    return body + ("&" + urlencode({"reminder_key": reminder_key}) if reminder_key else "")


def twilio_inbound(sid: str, sender: str, text: str) -> str:
    return urlencode({"MessageSid": sid, "SmsSid": sid, "From": sender, "To": "+15005550006", "Body": text})


def sendgrid_event(
    event: str, message_id: str | None, reminder_key: str | None, *, event_id: str | None = None, **fields: Any
) -> dict[str, Any]:
    """One Event Webhook event (custom args at the top level; ``sg_message_id`` the X-Message-Id and a suffix)."""
    found: dict[str, Any] = {
        "email": "someone@example.com",
        "timestamp": 1773158400,
        "event": event,
        "sg_event_id": event_id or uuid.uuid4().hex,
        "smtp-id": "<x@example.com>",
        "category": ["first_notice"],
    }
    if message_id is not None:
        found["sg_message_id"] = f"{message_id}.recvd-5f8d9b7c4-abcde-1-65F0A1B2-3.0"
    if reminder_key is not None:
        found["reminder_key"] = reminder_key
    return found | fields


def inbound_email(sender: str, text: str, *, subject: str = "Re: your invoice", message_id: str | None = None) -> str:
    """An Inbound Parse post as the web app stores it: a JSON object of its text fields."""
    headers = f"From: {sender}\nTo: replies@example.com\nSubject: {subject}\n"
    if message_id:
        headers += f"Message-ID: {message_id}\n"
    fields = {"from": sender, "to": "replies@example.com", "subject": subject, "text": text, "headers": headers}
    return json.dumps(fields, sort_keys=True)


def post(ledger: Ledger, source: EventSource, body: str, now: datetime, key: str | None = None) -> Processed | None:
    """Store ``body`` as the web app would, then process it with the processing handlers (None: stored already)."""
    dedupe_key = key or "sha256:" + hashlib.sha256(body.encode()).hexdigest()
    with ledger.begin_write(INBOX_LOCK, shared=True) as connection:
        event_id = store_event(connection, source, dedupe_key, body, now)
    if event_id is None:
        return None
    return process_event(ledger, InboundEvent(event_id, source, body, now), HANDLERS[source], now)
