"""Nothing the web app logs or keeps as a reason shows a phone number or an email address unmasked."""

from __future__ import annotations

import logging
from datetime import datetime

import httpx
import pytest
from sqlalchemy import Connection

from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.inbox import EventSource, EventStatus, HandlerOutcome, InboundEvent
from reminder_pipeline.web import create_app
from reminder_pipeline_tests.web.kinds import TEST_HANDLERS, inbox, send
from reminder_pipeline_tests.web.server import RunningApp
from reminder_pipeline_tests.web.signing import (
    MovableClock,
    Secrets,
    inbound_email,
    inbound_post,
    inbound_sms,
    sendgrid_event,
    sendgrid_post,
    status_params,
    twilio_post,
)

PHONE = "+4915112345678"
ADDRESS = "juergen.mueller@example.de"


def chatty(connection: Connection, event: InboundEvent, now: datetime) -> HandlerOutcome:
    """A handler whose reason quotes the customer (as a careless one might)."""
    return HandlerOutcome(EventStatus.UNMATCHED, f"nobody known as {PHONE} or {ADDRESS}")


def test_log_lines_and_kept_reasons_mask_numbers_and_addresses(
    ledger: Ledger, secrets: Secrets, web_clock: MovableClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    handlers = TEST_HANDLERS | {EventSource.TWILIO_INBOUND: chatty}
    app = create_app(ledger.url, settings=secrets.settings(web_clock), handlers=handlers)
    sms = inbound_sms("SM" + "c" * 32, sender=PHONE, text=f"STOP, this is {ADDRESS}")
    email = inbound_email(sender=f"Jürgen Müller <{ADDRESS}>", text=f"call me on {PHONE}")
    status = status_params("SM" + "d" * 32) | {"To": PHONE}
    with RunningApp(app) as running, httpx.Client(base_url=running.url) as client:
        assert send(client, twilio_post(secrets, "/webhooks/twilio/inbound", sms)).status_code == 200
        assert send(client, twilio_post(secrets.others(), "/webhooks/twilio/inbound", sms)).status_code == 403
        assert send(client, inbound_post(secrets, email)).status_code == 200
        assert send(client, inbound_post(secrets, email, password="wrong")).status_code == 401
        assert send(client, twilio_post(secrets, "/webhooks/twilio/status", status)).status_code == 200
        batch = [sendgrid_event(email=ADDRESS)]
        assert send(client, sendgrid_post(secrets, batch, web_clock.now)).status_code == 200
    logged = caplog.text
    assert "from +4***78" in logged, "the sender is named, masked"
    assert "from j***@e***.de" in logged
    for personal in (PHONE, PHONE[1:], ADDRESS, "Müller", "15112345678"):
        assert personal not in logged
    kept = " ".join(str(e["detail"]) for e in inbox(ledger))
    assert "nobody known as" in kept
    assert PHONE not in kept
    assert ADDRESS not in kept
