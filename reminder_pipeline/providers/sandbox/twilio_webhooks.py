"""The form POSTs Twilio makes to its customers: status callbacks (PROVIDERS.md §2) and inbound SMS (§3).

Both are signed with ``X-Twilio-Signature`` over the URL as given (query included, fragment not:
Twilio reads ``#rc=…`` style fragments as its own connection overrides) and the posted parameters.
Real Twilio fires no callbacks for test credentials; the sandbox does, which is what it is for.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from urllib.parse import urldefrag, urlencode

import phonenumbers

from reminder_pipeline.providers.sandbox.fates import SmsStatus
from reminder_pipeline.providers.sandbox.poster import USER_AGENT_HEADER, WebhookRequest
from reminder_pipeline.providers.sandbox.signing import TWILIO_SIGNATURE_HEADER, twilio_signature
from reminder_pipeline.providers.sandbox.sms_text import segments
from reminder_pipeline.providers.sandbox.store import Record

API_VERSION = "2010-04-01"
FORM = "application/x-www-form-urlencoded"
USER_AGENT = "TwilioProxy/1.1"
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
WITH_ERROR = frozenset({SmsStatus.UNDELIVERED, SmsStatus.FAILED})
WITH_DLR_DATE = frozenset({SmsStatus.DELIVERED, SmsStatus.UNDELIVERED})


def message_sid() -> str:
    return "SM" + uuid.uuid4().hex


def signed_form(auth_token: str, url: str, params: dict[str, str], token: str | None = None) -> WebhookRequest:
    """A form POST of ``params`` to ``url``, signed as Twilio signs; ``token``: its idempotency token."""
    target = urldefrag(url).url
    headers = (
        ("Content-Type", FORM),
        (TWILIO_SIGNATURE_HEADER, twilio_signature(auth_token, target, params)),
        (IDEMPOTENCY_HEADER, token or secrets.token_hex(16)),
        (USER_AGENT_HEADER, USER_AGENT),
        ("Accept", "*/*"),
    )
    return WebhookRequest(target, urlencode(params).encode("utf-8"), headers)


def status_params(record: Record, status: SmsStatus, error_code: int | None, done_at: datetime) -> dict[str, str]:
    """The parameters of one status callback for the message ``record``."""
    params = {
        "AccountSid": str(record["account_sid"]),
        "From": str(record["from"]),
        "To": str(record["to"]),
        "MessageSid": str(record["provider_id"]),
        "MessageStatus": status.value,
        "SmsSid": str(record["provider_id"]),
        "SmsStatus": status.value,
        "ApiVersion": API_VERSION,
    }
    if record.get("messaging_service_sid"):
        params["MessagingServiceSid"] = str(record["messaging_service_sid"])
    if status in WITH_ERROR and error_code is not None:
        params["ErrorCode"] = str(error_code)
    if status in WITH_DLR_DATE:
        params["RawDlrDoneDate"] = done_at.astimezone(UTC).strftime("%y%m%d%H%M")
    return params


def status_callbacks(
    auth_token: str, record: Record, statuses: tuple[SmsStatus, ...], error_code: int | None, done_at: datetime
) -> list[WebhookRequest]:
    """One signed callback per status, to the message's StatusCallback, each with its own idempotency token."""
    url = str(record["status_callback"])
    return [signed_form(auth_token, url, status_params(record, s, error_code, done_at)) for s in statuses]


def _country(number: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number)) or ""
    except phonenumbers.NumberParseException:
        return ""


def inbound_params(
    account_sid: str, sid: str, sender: str, to: str, body: str, messaging_service_sid: str | None = None
) -> dict[str, str]:
    """What Twilio posts to a number's messaging webhook when an SMS arrives (no media)."""
    params = {
        "ToCountry": _country(to),
        "ToState": "",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": _country(sender),
        "To": to,
        "ToZip": "",
        "NumSegments": str(segments(body)),
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": sender,
        "ApiVersion": API_VERSION,
    }
    if messaging_service_sid:
        params["MessagingServiceSid"] = messaging_service_sid
    return params
