"""SMS through Twilio's official SDK (``twilio.rest.Client`` on a ``requests`` session).

Every message carries its reminder key as the ``reminder_key`` query parameter of its
``StatusCallback``. How Twilio's answers map onto :class:`SendOutcome`:

- 201 → accepted, the ``sid`` is the provider id;
- 429 / 20429 and 5xx → retry (after ``Retry-After`` when given); a refused connection → retry;
- 21211, 21612, 21614 → rejected, invalid address; 21610 → rejected, opted out; 21408, 20003 and
  other 4xx → rejected;
- a timeout or a connection dropped after the request went out → unknown: Twilio has no idempotency
  key, so :meth:`TwilioProvider.lookup` searches the recipient's messages before anything is resent.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

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
from reminder_pipeline.providers.settings import DEFAULT_TWILIO_BASE_URL
from reminder_pipeline.providers.waits import retry_after_seconds

quiet_sdk_loggers()

STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
INVALID_ADDRESS_CODES = frozenset({21211, 21612, 21614})
OPTED_OUT_CODE = 21610
AUTHENTICATION_CODE = 20003
TOO_MANY_REQUESTS_CODE = 20429
LOOKUP_CLOCK_MARGIN = timedelta(minutes=15)
"""How far before ``since`` a lookup searches: clocks differ, and a wider search only finds more candidates."""
LOOKUP_PAGE_SIZE = 50
LOOKUP_MAX_PAGES = 20
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class RebasedTwilioHttpClient(TwilioHttpClient):
    """The SDK's HTTP client with every URL's scheme and host replaced by ``base_url``'s (PROVIDERS.md §4 A).

    The SDK's region and edge only rewrite the host, which is replaced here, so ``TWILIO_REGION`` and
    ``TWILIO_EDGE`` cannot send a request elsewhere. No retries (a retried create could send twice), a
    pool as large as the concurrency, no proxy for a sandbox on loopback. The last response of each
    thread is kept: Twilio's exception has no headers, and a lookup reads fields the SDK drops.
    """

    def __init__(self, base_url: str, *, timeout: float, pool_size: int) -> None:
        super().__init__(timeout=timeout)
        self._base = urlsplit(base_url.rstrip("/"))
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(1, pool_size), max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if self._base.hostname in LOOPBACK_HOSTS:
            self.session.trust_env = False
        self._last = threading.local()

    def rebase(self, url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit((self._base.scheme, self._base.netloc, self._base.path + parts.path, parts.query, ""))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        self._last.response = None
        response = super().request(method, self.rebase(url), *args, **kwargs)
        self._last.response = response
        return response

    def last_response(self) -> Response | None:
        """This thread's last response, if its request got one."""
        return getattr(self._last, "response", None)


def _chain(error: BaseException) -> list[BaseException]:
    """``error`` and everything it wraps (causes, contexts, urllib3's ``reason``, exceptions in ``args``)."""
    found: list[BaseException] = []
    pending: list[Any] = [error]
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or any(item is seen for seen in found):
            continue
        found.append(item)
        pending += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]
    return found


def _never_sent(error: requests.RequestException) -> bool:
    """The connection was never made (refused, unknown host, connect timeout): the request never left."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    return any(isinstance(e, NewConnectionError | ConnectionRefusedError) for e in _chain(error))


class TwilioProvider:
    """Twilio's Messages API for one account and sender (a number or a Messaging Service); thread-safe."""

    name = "twilio"
    channel = Channel.SMS

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        base_url: str = DEFAULT_TWILIO_BASE_URL,
        status_callback_base: str | None = None,
        limits: ProviderLimits = ProviderLimits(),  # noqa: B008 (a frozen dataclass)
    ) -> None:
        if not from_number and not messaging_service_sid:
            raise ValueError("Twilio needs a sender: TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        if not status_callback_base:
            raise ValueError(
                "Twilio needs the public URL of the status webhook (REMINDERS_PUBLIC_URL): "
                "every SMS carries its reminder key in its StatusCallback"
            )
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback_base = status_callback_base.rstrip("/")
        self.limits = limits
        self._http = RebasedTwilioHttpClient(base_url, timeout=limits.timeout_seconds, pool_size=limits.concurrency)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        self._client.region = None
        self._client.edge = None

    def status_callback(self, reminder_key: str) -> str:
        return f"{self.status_callback_base}{STATUS_CALLBACK_PATH}?reminder_key={quote(reminder_key, safe='')}"

    def send(self, message: OutgoingMessage) -> SendResult:
        if message.channel is not Channel.SMS:
            raise ValueError(f"Twilio sends SMS, not {message.channel}")
        sender: dict[str, str] = {}
        if self.from_number:
            sender["from_"] = self.from_number
        if self.messaging_service_sid:
            sender["messaging_service_sid"] = self.messaging_service_sid
        try:
            created = self._client.messages.create(
                to=message.to,
                body=message.body_text,
                status_callback=self.status_callback(message.reminder_key),
                **sender,
            )
        except TwilioRestException as error:
            return self._refusal(error)
        except requests.RequestException as error:
            if _never_sent(error):
                return SendResult(SendOutcome.RETRY, detail=f"Twilio unreachable: {type(error).__name__}")
            return self._unknown(error)
        except (TwilioException, ValueError, OSError) as error:  # an answer the SDK could not read
            return self._unknown(error)
        return SendResult(
            SendOutcome.ACCEPTED, provider_id=created.sid, http_status=201, provider_status=created.status
        )

    def _unknown(self, error: BaseException) -> SendResult:
        return SendResult(
            SendOutcome.UNKNOWN,
            detail=f"no answer from Twilio ({type(error).__name__}): it may or may not have the message",
        )

    def _refusal(self, error: TwilioRestException) -> SendResult:
        status = int(error.status)
        code = int(error.code) if error.code is not None else None
        detail = redact(f"Twilio answered {status} (code {code}): {error.msg}")
        if status == 429 or code == TOO_MANY_REQUESTS_CODE or status >= 500:
            response = self._http.last_response()
            return SendResult(
                SendOutcome.RETRY,
                http_status=status,
                error_code=str(code or status),
                detail=detail,
                retry_after=retry_after_seconds(response.headers if response is not None else None),
            )
        if status == 401:
            code = AUTHENTICATION_CODE
        problem = None
        if code in INVALID_ADDRESS_CODES:
            problem = ContactProblem.INVALID_ADDRESS
        elif code == OPTED_OUT_CODE:
            problem = ContactProblem.OPTED_OUT
        return SendResult(
            SendOutcome.REJECTED,
            http_status=status,
            error_code=str(code or status),
            detail=detail,
            contact_problem=problem,
        )

    def lookup(self, message: OutgoingMessage, since: datetime) -> LookupResult:
        """Search the recipient's messages created since ``since`` (less a margin) for this one.

        The list is asked by recipient only, newest first, and cut by creation time here: a message still
        queued at Twilio (hours, at one SMS a second per number) has no ``date_sent`` yet, so a
        ``DateSent>`` filter would miss it and a resend would follow. A message matches on the reminder
        key of its StatusCallback where the answer has it (the sandbox's does), else on its exact body:
        two reminders with the same text to the same number are taken as one, which errs towards not
        sending.
        """
        after = (since if since.tzinfo else since.replace(tzinfo=UTC)).astimezone(UTC) - LOOKUP_CLOCK_MARGIN
        try:
            page = self._client.messages.page(to=message.to, page_size=LOOKUP_PAGE_SIZE)
            for _ in range(LOOKUP_MAX_PAGES):
                records = self._records()
                for record in records:
                    if _matches(record, message):
                        return LookupResult(True, provider_id=record.get("sid"), provider_status=record.get("status"))
                if not records or all(_created(r) < after for r in records):
                    return LookupResult(False, detail="Twilio has no such message to this recipient")
                page = page.next_page()
                if page is None:
                    return LookupResult(False, detail="Twilio has no such message to this recipient")
        except (TwilioException, requests.RequestException, ValueError, OSError) as error:
            return LookupResult(None, detail=f"Twilio's message search failed ({type(error).__name__})")
        return LookupResult(None, detail=f"more than {LOOKUP_MAX_PAGES} pages of messages to search")

    def _records(self) -> list[dict[str, Any]]:
        response = self._http.last_response()
        payload = json.loads(response.text) if response is not None else {}
        records = payload.get("messages") if isinstance(payload, dict) else None
        return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []


def _created(record: dict[str, Any]) -> datetime:
    """When Twilio created the message (RFC 2822); one without a readable date counts as recent."""
    try:
        return parsedate_to_datetime(str(record.get("date_created")))
    except (TypeError, ValueError):
        return datetime.max.replace(tzinfo=UTC)


def _matches(record: dict[str, Any], message: OutgoingMessage) -> bool:
    callback = record.get("status_callback")
    if callback:
        keys = parse_qs(urlsplit(str(callback)).query).get("reminder_key", [])
        return message.reminder_key in keys
    return bool(str(record.get("direction", "")).startswith("outbound")) and record.get("body") == message.body_text
