"""Requests signed as each sender signs them: Twilio with its SDK's ``compute_signature``, SendGrid with an
ECDSA key made here, payments and Stripe with an HMAC written out here (not the app's own code)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets as random
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from twilio.request_validator import RequestValidator

from reminder_pipeline.web.settings import WebSettings

PUBLIC_URL = "https://reminders.example.com"
"""Where the providers are told to post (a proxy in front of the app)."""


class MovableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Secrets:
    """Fresh secrets for one test (nothing secret lives in the repository)."""

    twilio_token: str = field(default_factory=lambda: random.token_hex(16))
    sendgrid_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    payment_secret: str = field(default_factory=lambda: "whsec_" + random.token_hex(16))
    stripe_secret: str = field(default_factory=lambda: "whsec_" + random.token_hex(16))
    parse_user: str = "parse"
    parse_password: str = field(default_factory=lambda: random.token_urlsafe(12))

    @property
    def sendgrid_public_key(self) -> str:
        spki = self.sendgrid_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(spki).decode()

    def settings(self, clock: MovableClock, public_url: str | None = PUBLIC_URL) -> WebSettings:
        return WebSettings(
            twilio_auth_token=self.twilio_token,
            sendgrid_public_key=self.sendgrid_public_key,
            payment_secret=self.payment_secret,
            stripe_secret=self.stripe_secret,
            inbound_parse_user=self.parse_user,
            inbound_parse_password=self.parse_password,
            public_url=public_url,
            clock=clock,
        )

    def others(self) -> Secrets:
        """Different secrets of every kind: what a forger would sign with."""
        return replace(Secrets(), parse_user=self.parse_user)


@dataclass(frozen=True)
class Post:
    path: str
    body: bytes
    headers: dict[str, str]

    def without(self, *names: str) -> Post:
        lowered = {n.lower() for n in names}
        return replace(self, headers={k: v for k, v in self.headers.items() if k.lower() not in lowered})


def twilio_post(
    secrets: Secrets, path: str, params: dict[str, str], *, query: str = "", base: str = PUBLIC_URL
) -> Post:
    target = path + (f"?{query}" if query else "")
    signature = RequestValidator(secrets.twilio_token).compute_signature(base + target, params)
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
    return Post(target, urlencode(params).encode(), headers)


def status_params(sid: str, status: str = "delivered", error_code: str = "") -> dict[str, str]:
    params = {"AccountSid": "AC" + "1" * 32, "MessageSid": sid, "SmsSid": sid, "MessageStatus": status}
    params |= {"SmsStatus": status, "To": "+12025550123", "From": "+15005550006", "ApiVersion": "2010-04-01"}
    return params | ({"ErrorCode": error_code} if error_code else {})


def inbound_sms(sid: str, sender: str = "+12025550123", text: str = "When is it due?") -> dict[str, str]:
    params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "1" * 32, "From": sender}
    return params | {"To": "+15005550006", "Body": text, "NumMedia": "0", "SmsStatus": "received"}


def sendgrid_signature(key: ec.EllipticCurvePrivateKey, timestamp: str, body: bytes) -> str:
    return base64.b64encode(key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()


def sendgrid_post(secrets: Secrets, events: list[dict[str, Any]], at: datetime) -> Post:
    body = json.dumps(events, separators=(",", ":")).encode()
    timestamp = str(int(at.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": sendgrid_signature(secrets.sendgrid_key, timestamp, body),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    }
    return Post("/webhooks/sendgrid/events", body, headers)


def sendgrid_event(event: str = "delivered", reminder_key: str = "C00001/x", **fields: Any) -> dict[str, Any]:
    found = {"email": "anna@example.com", "timestamp": 1773158400, "event": event, "sg_event_id": uuid.uuid4().hex}
    return found | {"sg_message_id": "abc.filter-1", "reminder_key": reminder_key} | fields


def hmac_header(secret: str, body: bytes, at: datetime) -> str:
    timestamp = int(at.timestamp())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def payment_post(secrets: Secrets, payment: dict[str, Any], at: datetime) -> Post:
    body = json.dumps(payment).encode()
    signature = hmac_header(secrets.payment_secret, body, at)
    headers = {"Content-Type": "application/json", "X-Reminders-Signature": signature}
    return Post("/webhooks/payments", body, headers)


def payment(payment_id: str = "P-1", invoice_id: str = "INV-C00001", amount: str = "100.00") -> dict[str, str]:
    return {
        "payment_id": payment_id,
        "invoice_id": invoice_id,
        "amount": amount,
        "currency": "EUR",
        "paid_at": "2026-03-10T14:30:00+00:00",
    }


def stripe_post(secrets: Secrets, event: dict[str, Any], at: datetime) -> Post:
    body = json.dumps(event).encode()
    headers = {"Content-Type": "application/json", "Stripe-Signature": hmac_header(secrets.stripe_secret, body, at)}
    return Post("/webhooks/stripe", body, headers)


def invoice_paid(
    event_id: str = "evt_1", invoice_id: str | None = "INV-C00001", amount_paid: int = 10000, currency: str = "eur"
) -> dict[str, Any]:
    paid_at = int(datetime(2026, 3, 10, 14, tzinfo=UTC).timestamp())
    invoice = {
        "id": f"in_{event_id}",
        "object": "invoice",
        "number": "STRIPE-0001",
        "amount_paid": amount_paid,
        "currency": currency,
        "metadata": {"invoice_id": invoice_id} if invoice_id else {},
        "status_transitions": {"paid_at": paid_at},
    }
    return {"id": event_id, "object": "event", "type": "invoice.paid", "created": paid_at, "data": {"object": invoice}}


def charge_refunded(event_id: str = "evt_r1") -> dict[str, Any]:
    charge = {"id": "ch_1", "object": "charge", "amount_refunded": 10000, "currency": "eur", "invoice": "in_evt_1"}
    return {"id": event_id, "object": "event", "type": "charge.refunded", "data": {"object": charge}}


def multipart(fields: dict[str, str], files: dict[str, bytes] | None = None) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body as SendGrid's Inbound Parse posts it, and its content type."""
    boundary = "xYzZY" + uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        parts.append(value.encode("utf-8") + b"\r\n")
    for name, content in (files or {}).items():
        header = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}.pdf"\r\n'
        parts.append((header + "Content-Type: application/pdf\r\n\r\n").encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def inbound_email(sender: str = "Anna <anna@example.com>", text: str = "I paid yesterday.") -> dict[str, str]:
    headers = f"From: {sender}\nTo: replies@example.com\nSubject: Re: invoice\nMessage-ID: <{uuid.uuid4()}@mail>\n"
    return {
        "from": sender,
        "to": "replies@example.com",
        "subject": "Re: invoice",
        "text": text,
        "headers": headers,
        "charsets": json.dumps({"from": "UTF-8", "to": "UTF-8", "subject": "UTF-8", "text": "UTF-8"}),
        "envelope": json.dumps({"to": ["replies@example.com"], "from": "anna@example.com"}),
    }


def inbound_post(
    secrets: Secrets, fields: dict[str, str], *, password: str | None = None, files: dict[str, bytes] | None = None
) -> Post:
    body, content_type = multipart(fields, files)
    credentials = base64.b64encode(f"{secrets.parse_user}:{password or secrets.parse_password}".encode()).decode()
    headers = {"Content-Type": content_type, "Authorization": f"Basic {credentials}"}
    return Post("/webhooks/sendgrid/inbound", body, headers)


STALE = timedelta(seconds=301)
