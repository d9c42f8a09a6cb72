"""Who sent a request: the providers' own validators, timestamped HMACs like Stripe's, and basic auth.

Each check raises :class:`Refusal` (401 nothing to check, 403 wrong or stale) and returns nothing
when the request is authentic. SendGrid's helper and Twilio's signature carry no freshness check of
their own; SendGrid's timestamp is checked here. Twilio's signature has no timestamp at all: a
replayed Twilio request is a no-op by its dedupe key instead.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from sendgrid.helpers.eventwebhook import EventWebhook
from twilio.request_validator import RequestValidator

from reminder_pipeline.web.refusal import Refusal, forged, stale, unsigned

TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
SENDGRID_SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
PAYMENT_SIGNATURE_HEADER = "X-Reminders-Signature"
STRIPE_SIGNATURE_HEADER = "Stripe-Signature"
MAX_HEADER = 4096


class TwilioParams:
    """Form parameters as Twilio's validator reads them (``getall``: every value of a repeated name).

    The values of each name are gathered once: the validator asks for each name's values on every
    signature it computes (two per request: the URL with and without its port).
    """

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.pairs = list(pairs)
        self._values: dict[str, list[str]] = {}
        for key, value in self.pairs:
            self._values.setdefault(key, []).append(value)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._values)

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def getall(self, name: str) -> list[str]:
        return list(self._values.get(name, ()))

    getlist = getall

    def first(self, name: str) -> str | None:
        found = self._values.get(name)
        return found[0] if found else None


def verify_twilio(token: str, url: str, params: TwilioParams, signature: str | None) -> None:
    """``X-Twilio-Signature`` over the URL Twilio called and the form parameters (twilio's ``RequestValidator``)."""
    if not signature:
        raise unsigned(f"{TWILIO_SIGNATURE_HEADER} header")
    if len(signature) > MAX_HEADER or not RequestValidator(token).validate(url, params, signature):
        raise forged(TWILIO_SIGNATURE_HEADER)


def sendgrid_verifier(public_key: str) -> EventWebhook:
    """SendGrid's verifier for ``public_key`` (base64 SPKI); ValueError when it is not such a key."""
    try:
        return EventWebhook(public_key)
    except (ValueError, UnsupportedAlgorithm, binascii.Error) as error:
        raise ValueError("SENDGRID_WEBHOOK_PUBLIC_KEY is not a base64 ECDSA public key") from error


def _fresh(timestamp: str, now: datetime, tolerance_seconds: int) -> None:
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise forged("signed timestamp")
    if abs(now.timestamp() - int(timestamp)) > tolerance_seconds:
        raise stale(tolerance_seconds)


def verify_sendgrid(
    verifier: EventWebhook,
    payload: str,
    headers: Mapping[str, str],
    now: datetime,
    tolerance_seconds: int,
) -> None:
    """SendGrid's signed event webhook (``EventWebhook.verify_signature``) and a fresh timestamp."""
    signature = headers.get(SENDGRID_SIGNATURE_HEADER)
    timestamp = headers.get(SENDGRID_TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise unsigned(f"{SENDGRID_SIGNATURE_HEADER} and {SENDGRID_TIMESTAMP_HEADER} headers")
    if len(signature) > MAX_HEADER:
        raise forged(SENDGRID_SIGNATURE_HEADER)
    _fresh(timestamp, now, tolerance_seconds)
    try:
        valid = verifier.verify_signature(payload, signature, timestamp)
    except (InvalidSignature, ValueError, binascii.Error):
        valid = False
    if not valid:
        raise forged(SENDGRID_SIGNATURE_HEADER)


def timestamped_signature(secret: str, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"``: Stripe's scheme, and the payment webhook's."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    """``t=<timestamp>,v1=<signature>``, as a sender writes it."""
    return f"t={timestamp},v1={timestamped_signature(secret, body, timestamp)}"


def verify_timestamped(
    secret: str, header_name: str, header: str | None, body: bytes, now: datetime, tolerance_seconds: int
) -> None:
    """``t=<unix>,v1=<hex>`` (several ``v1`` allowed while a secret rotates; other schemes ignored)."""
    if not header:
        raise unsigned(f"{header_name} header")
    if len(header) > MAX_HEADER:
        raise forged(header_name)
    timestamps: list[str] = []
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            timestamps.append(value)
        elif name == "v1":
            candidates.append(value)
    if len(timestamps) != 1 or not candidates:
        raise forged(header_name)
    _fresh(timestamps[0], now, tolerance_seconds)
    expected = timestamped_signature(secret, body, int(timestamps[0]))
    if not any(hmac.compare_digest(expected.encode(), c.encode("utf-8", "replace")) for c in candidates):
        raise forged(header_name)


def verify_basic_auth(header: str | None, user: str, password: str) -> None:
    """HTTP basic auth (SendGrid Inbound Parse's URL credentials), compared in constant time."""
    challenge = {"WWW-Authenticate": 'Basic realm="inbound-parse"'}
    if not header:
        raise Refusal(401, "no credentials", challenge)
    scheme, _, encoded = header.partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise Refusal(401, "the credentials do not match", challenge) from None
    given_user, separator, given_password = decoded.partition(b":")
    user_ok = hmac.compare_digest(given_user, user.encode())
    password_ok = hmac.compare_digest(given_password, password.encode())
    if scheme.lower() != "basic" or not separator or not (user_ok and password_ok):
        raise Refusal(401, "the credentials do not match", challenge)
