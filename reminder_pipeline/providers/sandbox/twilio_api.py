"""Twilio's Messages API as the sandbox serves it: create (form body, basic auth), list and fetch.

A created message answers 201 with the real resource fields and ``status`` ``queued`` (``accepted``
with a Messaging Service), ``date_sent`` null. The sandbox sends at once: listed afterwards it has its
final status (``delivered``, or ``undelivered``/``failed`` with its ``error_code``, as the faults drew
it; the status callbacks may still be on their way) with ``date_sent`` set, and carries one field
real Twilio does not give, ``status_callback``, so that a reconciliation can match the reminder key.
Magic test numbers fail as with test credentials; a recipient who texted STOP gets 21610 until START.
"""

from __future__ import annotations

import base64
import hmac
import math
import re
import time
import uuid
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from reminder_pipeline.providers.sandbox.errors import MAGIC_FROM, MAGIC_TO, twilio_error_body
from reminder_pipeline.providers.sandbox.exchange import Reply, Request
from reminder_pipeline.providers.sandbox.injector import ProviderName
from reminder_pipeline.providers.sandbox.sms_text import segments
from reminder_pipeline.providers.sandbox.state import Outcome, SandboxState
from reminder_pipeline.providers.sandbox.store import Record
from reminder_pipeline.providers.settings import SANDBOX_FROM_NUMBER

API_VERSION = "2010-04-01"
PREFIX = f"/{API_VERSION}/"
MESSAGES_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages(?:/(?P<sid>[^/]+))?\.json$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
MAX_BODY = 1600
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def _error(state: SandboxState, code: int, outcome: Outcome, **fill: str) -> Reply:
    state.stats.count(ProviderName.TWILIO, outcome)
    status, body = twilio_error_body(code, **fill)
    headers = (("WWW-Authenticate", 'Basic realm="Twilio API"'),) if status == 401 else ()
    return Reply.json(status, body, headers)


def _authorized(state: SandboxState, request: Request, account: str) -> bool:
    scheme, _, encoded = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
    except ValueError:
        return False
    expected = state.credentials
    return (
        hmac.compare_digest(user, expected.twilio_account_sid)
        and hmac.compare_digest(password, expected.twilio_auth_token)
        and account == expected.twilio_account_sid
    )


def handle(state: SandboxState, request: Request) -> Reply:
    match = MESSAGES_PATH.match(request.path)
    if match is None:
        return _error(state, 20404, Outcome.REJECTED, path=request.path)
    if not _authorized(state, request, match["account"]):
        return _error(state, 20003, Outcome.UNAUTHORIZED)
    sid = match["sid"]
    if request.method == "POST" and sid is None:
        return _create(state, request, match["account"])
    if request.method == "GET" and sid is None:
        return _list(state, request, match["account"])
    if request.method == "GET":
        return _fetch(state, request, match["account"], sid)
    return _error(state, 20404, Outcome.REJECTED, path=request.path)


def _refusal(form: dict[str, str]) -> int | None:
    """The Twilio error code a create gets for what it asks, if any."""
    to, sender, service = form.get("To", ""), form.get("From", ""), form.get("MessagingServiceSid", "")
    if not to:
        return 21604
    if not sender and not service:
        return 21603
    if not form.get("Body"):
        return 21602
    if sender in MAGIC_FROM:
        return MAGIC_FROM[sender]
    if sender and not (E164.match(sender) or ALPHANUMERIC_SENDER.match(sender)):
        return 21212
    if to in MAGIC_TO:
        return MAGIC_TO[to]
    if not E164.match(to):
        return 21211
    if len(form["Body"]) > MAX_BODY:
        return 21617
    callback = form.get("StatusCallback")
    if callback:
        parts = urlsplit(callback)
        if parts.scheme not in ("http", "https") or not parts.hostname or "_" in parts.hostname:
            return 21609
    return None


def _create(state: SandboxState, request: Request, account: str) -> Reply:
    limited = state.injector.rate_limited(ProviderName.TWILIO)
    if limited is not None:
        reply = _error(state, 20429, Outcome.RATE_LIMITED)
        wait = max(1, math.ceil(limited.reset_at - time.time()))
        return Reply(reply.status, reply.body, (("Retry-After", str(wait)),))
    if state.injector.server_error():
        return _error(state, 20500, Outcome.SERVER_ERROR)
    form = request.form()
    fill = {"to": form.get("To", ""), "from_": form.get("From", "")}
    injected = state.injector.injected_error(ProviderName.TWILIO)
    if injected is not None:
        return _error(state, injected, Outcome.INJECTED_ERROR, **fill)
    code = _refusal(form)
    if code is None and state.opt_outs.blocked(form["To"], form.get("From") or SANDBOX_FROM_NUMBER):
        code = 21610
    if code is not None:
        return _error(state, code, Outcome.REJECTED, **fill)
    record = _record(state, form, account)
    callbacks = state.webhooks.sms_accepted(state.injector.spec, record)
    state.store.add([record])
    state.webhooks.start(callbacks)
    state.stats.count(ProviderName.TWILIO, Outcome.ACCEPTED)
    hold = state.injector.hold_seconds()
    if hold:
        state.stats.count(ProviderName.TWILIO, Outcome.TIMED_OUT)
    return Reply.json(201, resource(record, just_created=True)).held(hold)


def _record(state: SandboxState, form: dict[str, str], account: str) -> Record:
    callback = form.get("StatusCallback")
    keys = parse_qs(urlsplit(callback).query).get("reminder_key", []) if callback else []
    service = form.get("MessagingServiceSid") or None
    return {
        "channel": "sms",
        "to": form["To"],
        "from": form.get("From") or SANDBOX_FROM_NUMBER,
        "subject": None,
        "body": form["Body"],
        "html": None,
        "headers": {},
        "categories": [],
        "provider_id": "SM" + uuid.uuid4().hex,
        "reminder_key": keys[0] if keys else None,
        "accepted_at": state.clock.now().isoformat(),
        "status_callback": callback,
        "status": "sent",
        "account_sid": account,
        "messaging_service_sid": service,
        "from_pool": not form.get("From"),
        "num_segments": segments(form["Body"]),
    }


def _rfc2822(iso: str) -> str:
    return format_datetime(datetime.fromisoformat(iso).astimezone(UTC))


def resource(record: Record, *, just_created: bool = False) -> dict[str, Any]:
    """The message as Twilio's API gives it (plus ``status_callback``)."""
    account, sid = record["account_sid"], record["provider_id"]
    stamp = _rfc2822(record["accepted_at"])
    pooled = just_created and record["from_pool"]
    service = record["messaging_service_sid"]
    return {
        "account_sid": account,
        "api_version": API_VERSION,
        "body": record["body"],
        "date_created": stamp,
        "date_sent": None if just_created else stamp,
        "date_updated": stamp,
        "direction": "outbound-api",
        "error_code": None if just_created else record.get("error_code"),
        "error_message": None,
        "from": None if pooled else record["from"],
        "messaging_service_sid": service,
        "num_media": "0",
        "num_segments": "0" if pooled else str(record["num_segments"]),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": ("accepted" if service else "queued") if just_created else record["status"],
        "status_callback": record["status_callback"],
        "subresource_uris": {"media": f"/{API_VERSION}/Accounts/{account}/Messages/{sid}/Media.json"},
        "to": record["to"],
        "uri": f"/{API_VERSION}/Accounts/{account}/Messages/{sid}.json",
    }


def _when(text: str) -> datetime | date:
    """A ``DateSent`` filter: ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SSZ`` (what the SDK writes)."""
    if len(text) == 10:
        return date.fromisoformat(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _passes(sent: datetime, bound: datetime | date, relation: str) -> bool:
    """``relation`` is ``>`` (on or after), ``<`` (on or before) or ``=`` (on the day), as Twilio reads them."""
    if isinstance(bound, datetime) and relation != "=":
        return sent >= bound if relation == ">" else sent <= bound
    day = sent.astimezone(UTC).date()
    bound_day = bound.astimezone(UTC).date() if isinstance(bound, datetime) else bound
    return {">": day >= bound_day, "<": day <= bound_day, "=": day == bound_day}[relation]


def _list(state: SandboxState, request: Request, account: str) -> Reply:
    state.stats.count(ProviderName.TWILIO, Outcome.LOOKUPS)
    try:
        bounds = [
            (rel, _when(v))
            for rel, key in ((">", "DateSent>"), ("<", "DateSent<"), ("=", "DateSent"))
            if (v := request.param(key))
        ]
        size = min(MAX_PAGE_SIZE, max(1, int(request.param("PageSize") or DEFAULT_PAGE_SIZE)))
        page = max(0, int(request.param("Page") or 0))
    except ValueError:
        return Reply.json(400, {"code": 20001, "message": "Invalid paging or date parameter", "status": 400})
    to, sender = request.param("To"), request.param("From")

    def wanted(record: Record) -> bool:
        if record["channel"] != "sms" or record.get("account_sid") != account:
            return False
        if (to and record["to"] != to) or (sender and record["from"] != sender):
            return False
        sent = datetime.fromisoformat(record["accepted_at"])
        return all(_passes(sent, bound, rel) for rel, bound in bounds)

    found = sorted(state.store.where(wanted), key=lambda r: r["accepted_at"], reverse=True)
    chosen = found[page * size : (page + 1) * size]
    base = f"/{API_VERSION}/Accounts/{account}/Messages.json"
    filters = [(k, v[0]) for k, v in request.query.items() if k not in ("Page", "PageSize", "PageToken") and v]

    def uri(number: int) -> str:
        paging = [("PageSize", str(size)), ("Page", str(number))]
        if number:
            paging.append(("PageToken", f"PA{found[number * size - 1]['provider_id']}"))
        return f"{base}?{urlencode(filters + paging)}"

    more = (page + 1) * size < len(found)
    return Reply.json(
        200,
        {
            "messages": [resource(r) for r in chosen],
            "end": page * size + max(0, len(chosen) - 1),
            "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1) if more else None,
            "previous_page_uri": uri(page - 1) if page else None,
            "page": page,
            "page_size": size,
            "start": page * size,
            "uri": uri(page),
        },
    )


def _fetch(state: SandboxState, request: Request, account: str, sid: str) -> Reply:
    state.stats.count(ProviderName.TWILIO, Outcome.LOOKUPS)
    found = state.store.where(lambda r: r["provider_id"] == sid and r.get("account_sid") == account)
    if not found:
        return _error(state, 20404, Outcome.REJECTED, path=request.path)
    return Reply.json(200, resource(found[0]))
