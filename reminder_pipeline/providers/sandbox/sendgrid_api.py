"""SendGrid v3 as the sandbox serves it: Mail Send (``POST /v3/mail/send``), Email Activity (``GET /v3/messages``)
and the Event Webhook's settings (:mod:`event_webhook_settings`).

Mail send checks a bearer key, validates the body the way SendGrid does (all errors at once, in its
words), answers 202 with ``X-Message-Id`` and keeps one record per ``to`` recipient, with the fate the
faults drew for it (its events go to the event webhook). The activity search understands the part
of SendGrid's query language a reconciliation needs, and gives each message's final status.
"""

from __future__ import annotations

import base64
import hmac
import math
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from reminder_pipeline.providers.sandbox import event_webhook_settings
from reminder_pipeline.providers.sandbox.errors import (
    INVALID_ADDRESS,
    SENDGRID_ERRORS,
    sendgrid_error,
)
from reminder_pipeline.providers.sandbox.exchange import Reply, Request
from reminder_pipeline.providers.sandbox.injector import ProviderName
from reminder_pipeline.providers.sandbox.state import Outcome, SandboxState
from reminder_pipeline.providers.sandbox.store import Record

MAIL_SEND = "/v3/mail/send"
ACTIVITY = "/v3/messages"
ADDRESS = re.compile(r"^[^@\s\"<>(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
MAX_CATEGORIES = 10
MAX_CATEGORY_LENGTH = 255
MAX_PERSONALIZATIONS = 1000
MAX_ACTIVITY_LIMIT = 1000
FROM_REQUIRED = (
    "The from object must be provided for every email send. It is an object that requires the email "
    'parameter, but may also contain a name parameter.  e.g. {"email" : "example@example.com"}  or '
    '{"email" : "example@example.com", "name" : "Example Recipient"}.'
)
SUBJECT_REQUIRED = (
    "The subject is required. You can get around this requirement if you use a template with a subject "
    "defined or if every personalization has a subject defined."
)
CONTENT_REQUIRED = (
    "Unless a valid template_id is provided, the content parameter is required. There must be at least one "
    "defined content block. We typically suggest both text/plain and text/html blocks are included, but "
    "only one block is required."
)


def _errors_reply(status: int, errors: list[dict[str, Any]], headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply.json(status, {"errors": errors}, headers)


def _refuse(state: SandboxState, status: int, outcome: Outcome) -> Reply:
    state.stats.count(ProviderName.SENDGRID, outcome)
    headers: tuple[tuple[str, str], ...] = ()
    if status == 429:
        headers = _rate_headers(1, time.time() + 1)
    return _errors_reply(status, [SENDGRID_ERRORS[status]], headers)


def _rate_headers(limit: int, reset_at: float) -> tuple[tuple[str, str], ...]:
    return (
        ("X-RateLimit-Limit", str(limit)),
        ("X-RateLimit-Remaining", "0"),
        ("X-RateLimit-Reset", str(math.ceil(reset_at))),
    )


def handle(state: SandboxState, request: Request) -> Reply:
    routes = {(MAIL_SEND, "POST"): _send, (ACTIVITY, "GET"): _activity, **event_webhook_settings.ROUTES}
    route = routes.get((request.path.rstrip("/"), request.method))
    if route is None:
        state.stats.count(ProviderName.SENDGRID, Outcome.REJECTED)
        return _errors_reply(404, [sendgrid_error("resource not found")])
    expected = f"Bearer {state.credentials.sendgrid_api_key}"
    if not hmac.compare_digest(request.headers.get("Authorization") or "", expected):
        return _refuse(state, 401, Outcome.UNAUTHORIZED)
    return route(state, request)


def _send(state: SandboxState, request: Request) -> Reply:
    if len(request.body) > state.config.max_email_bytes:
        return _refuse(state, 413, Outcome.REJECTED)
    limited = state.injector.rate_limited(ProviderName.SENDGRID)
    if limited is not None:
        state.stats.count(ProviderName.SENDGRID, Outcome.RATE_LIMITED)
        return _errors_reply(429, [SENDGRID_ERRORS[429]], _rate_headers(limited.limit, limited.reset_at))
    if state.injector.server_error():
        return _refuse(state, 500, Outcome.SERVER_ERROR)
    injected = state.injector.injected_error(ProviderName.SENDGRID)
    if injected is not None:
        return _refuse(state, injected, Outcome.INJECTED_ERROR)
    try:
        mail = request.json()
    except ValueError:
        state.stats.count(ProviderName.SENDGRID, Outcome.REJECTED)
        return _errors_reply(400, [sendgrid_error("Bad Request", None)])
    problems = validate(mail)
    if problems:
        state.stats.count(ProviderName.SENDGRID, Outcome.REJECTED)
        return _errors_reply(400, problems)
    if ((mail.get("mail_settings") or {}).get("sandbox_mode") or {}).get("enable"):
        return Reply(200, content_type=None)  # SendGrid's own sandbox mode: validated, nothing sent
    message_id = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode("ascii").rstrip("=")
    accepted = records(mail, message_id, state.clock.now())
    spec = state.injector.spec
    events = [state.webhooks.email_accepted(spec, record) for record in accepted]
    state.store.add(accepted)
    for chain in events:
        state.webhooks.start(chain)
    state.stats.count(ProviderName.SENDGRID, Outcome.ACCEPTED)
    hold = state.injector.hold_seconds()
    if hold:
        state.stats.count(ProviderName.SENDGRID, Outcome.TIMED_OUT)
    return Reply(202, headers=(("X-Message-Id", message_id),), content_type=None).held(hold)


def _valid_address(value: Any) -> bool:
    return isinstance(value, str) and bool(ADDRESS.match(value))


def _validate_personalizations(mail: dict[str, Any]) -> list[dict[str, Any]]:
    personalizations = mail.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        return [
            sendgrid_error(
                "The personalizations field is required and must have at least one personalization.",
                "personalizations",
                "-Personalizations-Errors",
            )
        ]
    if len(personalizations) > MAX_PERSONALIZATIONS:
        return [
            sendgrid_error(
                "The personalizations field cannot have more than 1000 personalizations.", "personalizations"
            )
        ]
    problems = []
    for i, personalization in enumerate(personalizations):
        to = personalization.get("to") if isinstance(personalization, dict) else None
        if not isinstance(to, list) or not to:
            problems.append(
                sendgrid_error(
                    "The to array is required for all personalization objects, and must have at least one email "
                    "object with a valid email address.",
                    f"personalizations.{i}.to",
                    "message.personalizations.to",
                )
            )
            continue
        seen: set[str] = set()
        for j, recipient in enumerate(to):
            email = recipient.get("email") if isinstance(recipient, dict) else None
            if not _valid_address(email):
                problems.append(
                    sendgrid_error(INVALID_ADDRESS, f"personalizations.{i}.to.{j}.email", "message.personalizations.to")
                )
            elif str(email).lower() in seen:
                problems.append(
                    sendgrid_error(
                        "Each email address in the personalization block should be unique between to, cc, and bcc. "
                        f"We found the first duplicate instance of [{email}] in the personalizations.{i}.to field.",
                        f"personalizations.{i}.to",
                        "message.recipient_errors",
                    )
                )
            else:
                seen.add(str(email).lower())
    return problems


def validate(mail: Any) -> list[dict[str, Any]]:
    """Every problem SendGrid would report about a mail/send body, in its words."""
    if not isinstance(mail, dict):
        return [sendgrid_error("Bad Request")]
    problems = _validate_personalizations(mail)
    sender = mail.get("from")
    if not isinstance(sender, dict) or not sender.get("email"):
        problems.append(sendgrid_error(FROM_REQUIRED, "from.email", "message.from"))
    elif not _valid_address(sender["email"]):
        problems.append(
            sendgrid_error("The from email does not contain a valid address.", "from.email", "message.from")
        )
    personalizations = [p for p in mail.get("personalizations") or [] if isinstance(p, dict)]
    templated = bool(mail.get("template_id"))
    if (
        not templated
        and not mail.get("subject")
        and not (personalizations and all(p.get("subject") for p in personalizations))
    ):
        problems.append(sendgrid_error(SUBJECT_REQUIRED, "subject", "message.subject"))
    content = mail.get("content")
    if not templated and (not isinstance(content, list) or not content):
        problems.append(sendgrid_error(CONTENT_REQUIRED, "content", "message.content"))
    for i, block in enumerate(content if isinstance(content, list) else []):
        if not isinstance(block, dict) or not isinstance(block.get("value"), str) or not block["value"]:
            problems.append(
                sendgrid_error(
                    "The content value must be a string at least one character in length.",
                    f"content.{i}.value",
                    "message.content.value",
                )
            )
    categories = mail.get("categories") or []
    if len(categories) > MAX_CATEGORIES:
        problems.append(
            sendgrid_error("Too many categories: at most 10 may be given.", "categories", "message.categories")
        )
    if any(not isinstance(c, str) or len(c) > MAX_CATEGORY_LENGTH for c in categories):
        problems.append(
            sendgrid_error("A category must be a string of at most 255 characters.", "categories", "message.categories")
        )
    for where, args in [("custom_args", mail.get("custom_args"))] + [
        (f"personalizations.{i}.custom_args", p.get("custom_args")) for i, p in enumerate(personalizations)
    ]:
        if args is not None and (not isinstance(args, dict) or not all(isinstance(v, str) for v in args.values())):
            problems.append(sendgrid_error("Custom args must be strings.", where, "message.custom_args"))
    return problems


def records(mail: dict[str, Any], message_id: str, now: datetime) -> list[Record]:
    """One record per ``to`` recipient; a personalization's subject, headers and custom args override the message's."""
    content = {block["type"]: block["value"] for block in mail.get("content") or []}
    sender = mail["from"]
    kept: list[Record] = []
    for personalization in mail["personalizations"]:
        custom_args = {**(mail.get("custom_args") or {}), **(personalization.get("custom_args") or {})}
        headers = {**(mail.get("headers") or {}), **(personalization.get("headers") or {})}
        for recipient in personalization["to"]:
            kept.append(
                {
                    "channel": "email",
                    "to": recipient["email"],
                    "from": sender["email"],
                    "from_name": sender.get("name"),
                    "subject": personalization.get("subject") or mail.get("subject"),
                    "body": content.get("text/plain", ""),
                    "html": content.get("text/html"),
                    "headers": headers,
                    "categories": list(mail.get("categories") or []),
                    "custom_args": custom_args,
                    "provider_id": message_id,
                    "sg_message_id": f"{message_id}.filter0001.{len(kept)}.0",
                    "reminder_key": custom_args.get("reminder_key"),
                    "accepted_at": now.isoformat(),
                    "status_callback": None,
                    "status": "processed",
                }
            )
    return kept


CLAUSE = re.compile(
    r"""\s*\(?\s*(?:
        unique_args\['(?P<arg>[^']+)'\]\s*=\s*"(?P<arg_value>(?:[^"\\]|\\.)*)"
      | (?P<field>to_email|from_email|subject|msg_id|status)\s*=\s*"(?P<value>(?:[^"\\]|\\.)*)"
      | last_event_time\s+BETWEEN\s+TIMESTAMP\s+"(?P<start>[^"]+)"\s+AND\s+TIMESTAMP\s+"(?P<end>[^"]+)"
    )\s*\)?\s*""",
    re.VERBOSE,
)
AND = re.compile(r"AND\b", re.IGNORECASE)
ACTIVITY_FIELDS = {"to_email": "to", "from_email": "from", "msg_id": "sg_message_id"}
"""The activity fields a query may name that the records keep under another name (subject, status: the same)."""


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _stamp(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _predicate(clause: re.Match[str]) -> Callable[[Record], bool]:
    if clause["arg"]:
        name, wanted = clause["arg"], _unescape(clause["arg_value"])
        return lambda r: (r.get("custom_args") or {}).get(name) == wanted
    if clause["field"]:
        key, value = ACTIVITY_FIELDS.get(clause["field"], clause["field"]), _unescape(clause["value"])
        return lambda r: str(r.get(key) or "").lower() == value.lower()
    start, end = _stamp(clause["start"]), _stamp(clause["end"])
    return lambda r: start <= datetime.fromisoformat(r["accepted_at"]) <= end


def query_filter(query: str) -> list[Callable[[Record], bool]]:
    """The clauses of an activity query joined by AND, as predicates on a record; ValueError if unreadable."""
    predicates: list[Callable[[Record], bool]] = []
    position = 0
    while True:
        match = CLAUSE.match(query, position)
        if match is None:
            raise ValueError(f"cannot read the query at character {position}")
        predicates.append(_predicate(match))
        position = match.end()
        if position == len(query):
            return predicates
        joined = AND.match(query, position)
        if joined is None:
            raise ValueError(f"expected AND at character {position}")
        position = joined.end()


def _activity(state: SandboxState, request: Request) -> Reply:
    state.stats.count(ProviderName.SENDGRID, Outcome.LOOKUPS)
    try:
        limit = int(request.param("limit") or 10)
        if not 1 <= limit <= MAX_ACTIVITY_LIMIT:
            raise ValueError("limit must be from 1 to 1000")
        predicates = query_filter(request.param("query") or "")
    except ValueError as error:
        return _errors_reply(400, [sendgrid_error(f"invalid query: {error}", "query")])
    found = state.store.where(lambda r: r["channel"] == "email" and all(p(r) for p in predicates))
    found.sort(key=lambda r: r["accepted_at"], reverse=True)
    return Reply.json(200, {"messages": [_activity_row(r) for r in found[:limit]]})


def _activity_row(record: Record) -> dict[str, Any]:
    stamp = datetime.fromisoformat(record["accepted_at"]).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "from_email": record["from"],
        "msg_id": record["sg_message_id"],
        "subject": record["subject"],
        "to_email": record["to"],
        "status": record["status"],
        "opens_count": (record.get("events") or []).count("open"),
        "clicks_count": (record.get("events") or []).count("click"),
        "last_event_time": stamp,
    }
