"""The providers' own error answers, as the sandbox gives them: codes, HTTP statuses and wording.

Twilio answers ``{"code", "message", "more_info", "status"}`` (never the RFC 9457 shape, which the
SDK reads as another exception); SendGrid answers ``{"errors": [{"message", "field", "help"}]}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TwilioError:
    status: int
    message: str
    """May name ``{to}``, ``{from_}`` and ``{path}``, filled in from the request."""


TWILIO_ERRORS: dict[int, TwilioError] = {
    20003: TwilioError(401, "Authenticate"),
    20404: TwilioError(404, "The requested resource {path} was not found"),
    20429: TwilioError(429, "Too Many Requests"),
    20500: TwilioError(500, "Internal Server Error"),
    20503: TwilioError(503, "Service Unavailable"),
    21211: TwilioError(400, "The 'To' number {to} is not a valid phone number."),
    21212: TwilioError(
        400, "The 'From' number {from_} is not a valid phone number, shortcode, or alphanumeric sender ID."
    ),
    21408: TwilioError(
        400, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}."
    ),
    21602: TwilioError(400, "Message body is required."),
    21603: TwilioError(400, "A 'From' or 'MessagingServiceSid' parameter is required to send a message."),
    21604: TwilioError(400, "A 'To' phone number is required."),
    21606: TwilioError(
        400,
        "The 'From' phone number provided ({from_}) is not a valid message-capable Twilio phone number "
        "for this destination.",
    ),
    21609: TwilioError(400, "Invalid StatusCallback"),
    21610: TwilioError(400, "Attempt to send to unsubscribed recipient"),
    21611: TwilioError(400, "This 'From' number has exceeded the maximum number of queued messages"),
    21612: TwilioError(
        400, "The 'To' phone number: {to}, is not currently reachable using the 'From' phone number: {from_} via SMS."
    ),
    21614: TwilioError(400, "'To' number is not a valid mobile number"),
    21617: TwilioError(400, "The concatenated message body exceeds the 1600 character limit."),
}
INJECTABLE_TWILIO_CODES = frozenset(TWILIO_ERRORS) - {20404}

MAGIC_TO: dict[str, int] = {
    "+15005550001": 21211,
    "+15005550002": 21612,
    "+15005550003": 21408,
    "+15005550004": 21610,
    "+15005550009": 21614,
}
"""Twilio's test-credential recipients that always fail with these codes."""
MAGIC_FROM: dict[str, int] = {"+15005550001": 21212, "+15005550007": 21606, "+15005550008": 21611}


def twilio_error_body(code: int, *, to: str = "", from_: str = "", path: str = "") -> tuple[int, dict[str, Any]]:
    error = TWILIO_ERRORS[code]
    return error.status, {
        "code": code,
        "message": error.message.format(to=to, from_=from_, path=path),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": error.status,
    }


SENDGRID_HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"


def sendgrid_error(message: str, field: str | None = None, help_anchor: str | None = None) -> dict[str, Any]:
    return {"message": message, "field": field, "help": f"{SENDGRID_HELP}#{help_anchor}" if help_anchor else None}


INVALID_ADDRESS = "Does not contain a valid address."
SENDGRID_ERRORS: dict[int, dict[str, Any]] = {
    400: sendgrid_error(INVALID_ADDRESS, "personalizations.0.to.0.email", "message.personalizations.to"),
    401: sendgrid_error("authorization required"),
    403: sendgrid_error("access forbidden"),
    413: sendgrid_error("content too large"),
    429: sendgrid_error("too many requests"),
    500: sendgrid_error("internal error"),
    502: sendgrid_error("bad gateway"),
    503: sendgrid_error("service unavailable"),
}
"""One typical error per status, for the statuses the sandbox can be told to answer (``email_error_<status>``)."""
