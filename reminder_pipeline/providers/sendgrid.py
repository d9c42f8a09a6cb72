"""Email through SendGrid's official SDK (``sendgrid`` on ``python_http_client``, which uses urllib).

Every request carries the reminder key as ``custom_args.reminder_key``; the message has text and HTML
parts, the RFC 8058 one-click List-Unsubscribe headers and the step's categories. How SendGrid's
answers map onto :class:`SendOutcome`:

- 202 → accepted, ``X-Message-Id`` is the provider id;
- 429 → retry, after ``X-RateLimit-Reset`` (epoch seconds) or ``Retry-After``; 5xx and a refused
  connection → retry;
- 400/401/403/413 and other 4xx → rejected (a 400 about the recipient's address: an invalid address);
- a timeout or a connection dropped after the request went out → unknown (reconciled by :meth:`lookup`).
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import python_http_client.exceptions as http_errors
import sendgrid
from sendgrid.helpers.mail import Category, Content, CustomArg, From, Header, Mail, MimeType, To

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.providers.base import (
    ContactProblem,
    LookupResult,
    OutgoingMessage,
    ProviderLimits,
    SendOutcome,
    SendResult,
)
from reminder_pipeline.providers.redaction import quiet_sdk_loggers, redact
from reminder_pipeline.providers.settings import DEFAULT_SENDGRID_BASE_URL
from reminder_pipeline.providers.waits import retry_after_seconds

quiet_sdk_loggers()

REMINDER_KEY_ARG = "reminder_key"
ONE_CLICK = "List-Unsubscribe=One-Click"
LOOKUP_LIMIT = 10


def _errors(body: bytes | None) -> list[dict[str, Any]]:
    """SendGrid's ``{"errors": [{"message", "field", "help"}]}``, or nothing when the body is not that."""
    try:
        payload = json.loads(body or b"")
    except ValueError:
        return []
    errors = payload.get("errors") if isinstance(payload, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _about_recipient(error: Mapping[str, Any]) -> bool:
    field = str(error.get("field") or "")
    return field.startswith("personalizations") and "email" in field


def _never_sent(error: urllib.error.URLError) -> bool:
    """A refused connection or an unknown host: the request never left, so it is safe to try again."""
    return isinstance(error.reason, ConnectionRefusedError | socket.gaierror)


def _writable_address(address: str) -> bool:
    """Whether the SDK can write ``address`` as a recipient (it drops what it cannot parse, then fails)."""
    parsed = To(address.strip()).email
    return bool(parsed) and "@" in parsed


class SendGridProvider:
    """The SendGrid Mail Send API for one sender identity; thread-safe (urllib opens a connection per call)."""

    name = "sendgrid"
    channel = Channel.EMAIL

    def __init__(
        self,
        api_key: str,
        from_email: str,
        from_name: str | None = None,
        base_url: str = DEFAULT_SENDGRID_BASE_URL,
        limits: ProviderLimits = ProviderLimits(),  # noqa: B008 (a frozen dataclass)
    ) -> None:
        self.from_email = from_email
        self.from_name = from_name
        self.base_url = base_url.rstrip("/")
        self.limits = limits
        self._client = sendgrid.SendGridAPIClient(api_key, host=self.base_url)
        self._client.client.timeout = limits.timeout_seconds

    def mail(self, message: OutgoingMessage) -> Mail:
        """The SDK's message for ``message``: what :meth:`send` posts."""
        mail = Mail(
            from_email=From(self.from_email, message.from_name or self.from_name),
            to_emails=To(message.to.strip()),
            subject=message.subject,
        )
        mail.add_content(Content(MimeType.text, message.body_text))
        if message.body_html:
            mail.add_content(Content(MimeType.html, message.body_html))
        if message.unsubscribe_url:
            mail.add_header(Header("List-Unsubscribe", f"<{message.unsubscribe_url}>"))
            mail.add_header(Header("List-Unsubscribe-Post", ONE_CLICK))
        for category in reversed(message.categories):  # the SDK prepends each one
            mail.add_category(Category(category))
        mail.add_custom_arg(CustomArg(REMINDER_KEY_ARG, message.reminder_key))
        return mail

    def send(self, message: OutgoingMessage) -> SendResult:
        if message.channel is not Channel.EMAIL:
            raise ValueError(f"SendGrid sends email, not {message.channel}")
        if not _writable_address(message.to):
            return SendResult(
                SendOutcome.REJECTED,
                detail="the recipient's address is not an email address (not sent)",
                contact_problem=ContactProblem.INVALID_ADDRESS,
            )
        try:
            response = self._client.send(self.mail(message))
        except http_errors.HTTPError as error:
            return self._refusal(error)
        except urllib.error.URLError as error:
            if _never_sent(error):
                return SendResult(SendOutcome.RETRY, detail=f"SendGrid unreachable: {type(error.reason).__name__}")
            return self._unknown(error.reason if isinstance(error.reason, BaseException) else error)
        except (OSError, http.client.HTTPException) as error:  # timeouts, resets, a dropped connection
            return self._unknown(error)
        headers = response.headers
        return SendResult(
            SendOutcome.ACCEPTED,
            provider_id=headers.get("X-Message-Id"),
            http_status=response.status_code,
            provider_status="processed" if response.status_code == 202 else None,
        )

    def _unknown(self, error: BaseException) -> SendResult:
        return SendResult(
            SendOutcome.UNKNOWN,
            detail=f"no answer from SendGrid ({type(error).__name__}): it may or may not have the message",
        )

    def _refusal(self, error: http_errors.HTTPError) -> SendResult:
        status = int(error.status_code)
        errors = _errors(error.body)
        said = "; ".join(redact(f"{e.get('field') or 'request'}: {e.get('message', '')}") for e in errors)
        detail = f"SendGrid answered {status}" + (f": {said}" if said else "")
        if status == 429 or status >= 500:
            return SendResult(
                SendOutcome.RETRY,
                http_status=status,
                error_code=str(status),
                detail=detail,
                retry_after=retry_after_seconds(error.headers),
            )
        problem = ContactProblem.INVALID_ADDRESS if status == 400 and any(map(_about_recipient, errors)) else None
        return SendResult(
            SendOutcome.REJECTED, http_status=status, error_code=str(status), detail=detail, contact_problem=problem
        )

    def lookup(self, message: OutgoingMessage, since: datetime) -> LookupResult:
        """Search the Email Activity API for the reminder key (unique to the message, so ``since`` is unused).

        SendGrid's activity feed lags behind its sends: a "not found" is to be trusted only
        ``limits.lookup_delay_seconds`` after the send. Without the Email Activity add-on the search is
        refused, and the answer is "cannot tell" (None).
        """
        key = message.reminder_key.replace("\\", "\\\\").replace('"', '\\"')
        params = {"query": f"unique_args['{REMINDER_KEY_ARG}']=\"{key}\"", "limit": LOOKUP_LIMIT}
        try:
            response = self._client.client.messages.get(query_params=params)
            found = json.loads(response.body or b"{}").get("messages") or []
        except http_errors.HTTPError as error:
            return LookupResult(None, detail=f"SendGrid's activity search answered {error.status_code}")
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError, AttributeError) as error:
            return LookupResult(None, detail=f"SendGrid's activity search failed ({type(error).__name__})")
        if not found:
            return LookupResult(False, detail="SendGrid has no message with this reminder key")
        first = found[0]
        return LookupResult(
            True,
            provider_id=str(first.get("msg_id", "")).split(".")[0] or None,
            provider_status=first.get("status"),
        )
