"""Twilio's and SendGrid's webhooks: status callbacks, inbound SMS, event batches, Inbound Parse.

Twilio signs the URL it called plus the form parameters; behind a proxy that URL is rebuilt from
``REMINDERS_PUBLIC_URL`` + path + query. SendGrid signs timestamp + raw body (ECDSA); Inbound Parse
carries basic-auth credentials in its URL.
"""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reminder_pipeline.listening.inbox import EventSource
from reminder_pipeline.providers.settings import TWILIO_AUTH_TOKEN_ENV
from reminder_pipeline.web.bodies import as_text
from reminder_pipeline.web.endpoint import body_of, take, webhook
from reminder_pipeline.web.inbound_parse import parse_inbound, stored_form
from reminder_pipeline.web.intake import Intake
from reminder_pipeline.web.masking import masked_email, masked_phone
from reminder_pipeline.web.refusal import malformed, not_configured
from reminder_pipeline.web.settings import INBOUND_PARSE_USER_ENV, SENDGRID_WEBHOOK_PUBLIC_KEY_ENV
from reminder_pipeline.web.signatures import TWILIO_SIGNATURE_HEADER, TwilioParams, verify_basic_auth, verify_sendgrid
from reminder_pipeline.web.signatures import verify_twilio as check_twilio_signature

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_FORM_FIELDS = 500
MAX_SID = 64
MAX_STATUS = 32
MAX_ERROR_CODE = 16


def called_url(request: Request, public_url: str | None) -> str:
    """The URL the provider called: the public base (when set) + the path and query this app saw."""
    query = request.url.query
    base = public_url.rstrip("/") + request.url.path if public_url else str(request.url.replace(query=""))
    return f"{base}?{query}" if query else base


def _form(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise malformed(f"more than {MAX_FORM_FIELDS} form fields") from None


async def _twilio_request(request: Request, intake: Intake) -> tuple[TwilioParams, str, dict[str, str]]:
    """The authentic form parameters, the body to store (the form plus the URL's own parameters) and its fields
    (the first value of each name: what parsing the stored body gives, for the handler)."""
    token = intake.settings.twilio_auth_token
    if not token:
        raise not_configured(TWILIO_AUTH_TOKEN_ENV)
    text = as_text(await body_of(request, intake))
    pairs = _form(text)
    params = TwilioParams(pairs)
    url = called_url(request, intake.settings.public_url)
    check_twilio_signature(token, url, params, request.headers.get(TWILIO_SIGNATURE_HEADER))
    stored, fields = stored_body(text, pairs, _form(request.url.query))
    return params, stored, fields


def stored_body(text: str, pairs: list[tuple[str, str]], query: list[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    """The body to store — the form ``text`` (parsed: ``pairs``) plus the URL's parameters it does not name — and
    its fields: the first value of each name, what parsing the stored body gives."""
    named = {name for name, _ in pairs}
    extra = [(n, v) for n, v in query if n not in named]
    stored = text if not extra else (f"{text}&" if text else "") + urlencode(extra)
    return stored, dict(reversed([*pairs, *extra]))


def _field(params: TwilioParams, name: str, limit: int, *, required: bool = True) -> str:
    value = (params.first(name) or "").strip()
    if (required and not value) or len(value) > limit:
        raise malformed(f"{name} is missing or longer than {limit} characters")
    return value


@webhook
async def twilio_status(request: Request, intake: Intake) -> Response:
    params, stored, form = await _twilio_request(request, intake)
    sid = _field(params, "MessageSid", MAX_SID)
    status = _field(params, "MessageStatus", MAX_STATUS)
    error_code = _field(params, "ErrorCode", MAX_ERROR_CODE, required=False)
    context = f"{sid} {status}" + (f" error {error_code}" if error_code else "")
    taken = await take(intake, EventSource.TWILIO_STATUS, f"{sid}:{status}:{error_code}", stored, context, form)
    return taken.response()


@webhook
async def twilio_inbound(request: Request, intake: Intake) -> Response:
    params, stored, _ = await _twilio_request(request, intake)
    sid = _field(params, "MessageSid", MAX_SID)
    context = f"{sid} from {masked_phone(params.first('From'))}"
    taken = await take(intake, EventSource.TWILIO_INBOUND, sid, stored, context)
    return Response(taken.reply or EMPTY_TWIML, media_type="text/xml")


@webhook
async def sendgrid_events(request: Request, intake: Intake) -> Response:
    verifier = request.app.state.sendgrid_verifier
    if verifier is None:
        raise not_configured(SENDGRID_WEBHOOK_PUBLIC_KEY_ENV)
    raw = await body_of(request, intake)
    text = as_text(raw)
    settings = intake.settings
    verify_sendgrid(verifier, text, request.headers, settings.clock(), settings.tolerance_seconds)
    try:
        batch = json.loads(text)
    except ValueError:
        raise malformed("the body is not JSON") from None
    if not isinstance(batch, list):
        raise malformed("the body is not a JSON array of events")
    key = "sha256:" + hashlib.sha256(raw).hexdigest()
    taken = await take(intake, EventSource.SENDGRID_EVENTS, key, text, f"a batch of {len(batch)} event(s)")
    return taken.response()


@webhook
async def sendgrid_inbound(request: Request, intake: Intake) -> Response:
    user, password = intake.settings.inbound_parse_user, intake.settings.inbound_parse_password
    if not user or not password:
        raise not_configured(f"{INBOUND_PARSE_USER_ENV} or its password")
    verify_basic_auth(request.headers.get("authorization"), user, password)
    raw = await body_of(request, intake)
    fields = parse_inbound(request.headers.get("content-type", ""), raw)
    body, key = stored_form(fields)
    context = f"an email from {masked_email(fields.get('from'))}"
    taken = await take(intake, EventSource.SENDGRID_INBOUND, key, body, context)
    return taken.response()


PROVIDER_ROUTES = [
    Route("/webhooks/twilio/status", twilio_status, methods=["POST"]),
    Route("/webhooks/twilio/inbound", twilio_inbound, methods=["POST"]),
    Route("/webhooks/sendgrid/events", sendgrid_events, methods=["POST"]),
    Route("/webhooks/sendgrid/inbound", sendgrid_inbound, methods=["POST"]),
]
