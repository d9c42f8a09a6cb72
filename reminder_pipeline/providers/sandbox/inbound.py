"""Messages from customers, posted as the providers post them: an SMS to Twilio, an email to Inbound Parse.

``inject_sms`` posts Twilio's signed inbound-message webhook to ``twilio_inbound_url`` (after noting
an opt-out keyword, as Twilio does) and gives back the receiver's answer with the ``<Message>``
replies of its TwiML. ``inject_email`` posts SendGrid's Inbound Parse form (multipart/form-data,
boundary ``xYzZY`` as SendGrid's) to ``sendgrid_inbound_url``, whose ``user:password@`` becomes
basic auth. One attempt each: the caller sees what the receiver said.
"""

from __future__ import annotations

import json
import secrets
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

from reminder_pipeline.providers.sandbox import twilio_webhooks
from reminder_pipeline.providers.sandbox.opt_outs import AUTO_REPLIES
from reminder_pipeline.providers.sandbox.poster import USER_AGENT_HEADER, WebhookAnswer, WebhookRequest
from reminder_pipeline.providers.sandbox.state import SandboxState
from reminder_pipeline.providers.sandbox.webhooks import WebhookKind, WebhookUrl

BOUNDARY = "xYzZY"
PARSE_USER_AGENT = "Sendlib/1.0"
SENDER_IP = "203.0.113.25"
CHARSET_FIELDS = ("to", "from", "subject", "text", "html")


def _fields(payload: Any, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, str]:
    if not isinstance(payload, dict):
        raise ValueError(f"the body must be a JSON object with {', '.join(map(repr, required))}")
    missing = [name for name in required if not isinstance(payload.get(name), str) or not payload[name]]
    wrong = [name for name in optional if name in payload and not isinstance(payload[name], str | None)]
    if missing or wrong:
        raise ValueError(f"{', '.join(missing + wrong)}: each must be a non-empty string")
    return {name: payload[name] for name in required + optional if isinstance(payload.get(name), str)}


def _url(state: SandboxState, name: WebhookUrl) -> str:
    url = state.webhooks.url(name)
    if url is None:
        raise ValueError(f"no {name.value} is set: give it to the sandbox (PUT /sandbox/webhooks) first")
    return url


def _answer(answer: WebhookAnswer) -> dict[str, Any]:
    return {
        "status": answer.status,
        "content_type": answer.content_type,
        "body": answer.body.decode("utf-8", errors="replace"),
        "error": answer.error,
    }


def twiml_messages(twiml: str) -> list[str]:
    """The texts of a TwiML answer's ``<Message>`` verbs (what Twilio would send back), [] if none or unreadable."""
    try:
        root = ElementTree.fromstring(twiml)  # noqa: S314 (the operator's own receiver, answer capped at 64 KiB)
    except ElementTree.ParseError:
        return []
    found = []
    for message in root.iter("Message"):
        body = message.find("Body")
        text = body.text if body is not None else message.text
        found.append((text or "").strip())
    return found


def inject_sms(state: SandboxState, payload: Any) -> dict[str, Any]:
    fields = _fields(payload, ("from", "to", "body"), ("messaging_service_sid",))
    url = _url(state, WebhookUrl.TWILIO_INBOUND)
    sid = twilio_webhooks.message_sid()
    keyword = state.opt_outs.heard(fields["from"], fields["to"], fields["body"])
    params = twilio_webhooks.inbound_params(
        state.credentials.twilio_account_sid,
        sid,
        fields["from"],
        fields["to"],
        fields["body"],
        fields.get("messaging_service_sid"),
    )
    request = twilio_webhooks.signed_form(state.credentials.twilio_auth_token, url, params)
    answer = _answer(state.webhooks.post_once(WebhookKind.TWILIO_INBOUND, request))
    auto_reply = AUTO_REPLIES.get(keyword) if keyword is not None else None
    return {"message_sid": sid, **answer, "replies": twiml_messages(answer["body"]), "auto_reply": auto_reply}


def _address(text: str, name: str) -> str:
    address = parseaddr(text)[1]
    if "@" not in address:
        raise ValueError(f"{name} must be an email address (or 'Name <address>')")
    return address


def _raw_headers(fields: Mapping[str, str], extra: Mapping[str, str], message_id: str, date: str) -> str:
    multipart = "html" in fields
    content_type = (
        f'multipart/alternative; boundary="{secrets.token_hex(12)}"' if multipart else 'text/plain; charset="UTF-8"'
    )
    lines = [
        f"Received: by mx.sendgrid.net with SMTP id {secrets.token_hex(8)}; {date}",
        f"From: {formataddr(parseaddr(fields['from']))}",
        f"To: {fields['to']}",
        f"Subject: {Header(fields.get('subject', ''), 'utf-8').encode()}",
        f"Date: {date}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        f"Content-Type: {content_type}",
        *(f"{name}: {value}" for name, value in extra.items()),
    ]
    return "\n".join(lines) + "\n"


def parse_form(state: SandboxState, payload: Any) -> tuple[str, list[tuple[str, str]]]:
    """The Message-ID and the fields of the Inbound Parse POST for ``payload``."""
    fields = _fields(payload, ("from", "to", "text"), ("subject", "html"))
    extra = payload.get("headers") or {}
    if not isinstance(extra, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in extra.items()):
        raise ValueError('"headers" must be an object of header names to strings, e.g. {"In-Reply-To": "<id>"}')
    sender, recipient = _address(fields["from"], "from"), _address(fields["to"], "to")
    message_id = f"<{uuid.uuid4().hex}@{sender.rpartition('@')[2]}>"
    date = format_datetime(state.clock.now())
    form = [
        ("headers", _raw_headers(fields, extra, message_id, date)),
        ("dkim", f"{{@{sender.rpartition('@')[2]} : pass}}"),
        ("to", fields["to"]),
        ("from", fields["from"]),
        ("text", fields["text"]),
        *([("html", fields["html"])] if "html" in fields else []),
        ("sender_ip", SENDER_IP),
        ("envelope", json.dumps({"to": [recipient], "from": sender})),
        ("attachments", "0"),
        ("subject", fields.get("subject", "")),
        ("charsets", json.dumps(dict.fromkeys(CHARSET_FIELDS, "UTF-8"))),
        ("SPF", "pass"),
    ]
    return message_id, form


def multipart(form: list[tuple[str, str]]) -> tuple[str, bytes]:
    """The multipart/form-data body of ``form`` and its boundary (SendGrid's own, unless a value holds it)."""
    boundary = BOUNDARY
    while any(boundary in value for _, value in form):
        boundary = f"{BOUNDARY}{secrets.token_hex(8)}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n' for name, value in form
    ]
    return boundary, ("".join(parts) + f"--{boundary}--\r\n").encode("utf-8")


def inject_email(state: SandboxState, payload: Any) -> dict[str, Any]:
    message_id, form = parse_form(state, payload)
    url = _url(state, WebhookUrl.SENDGRID_INBOUND)
    boundary, body = multipart(form)
    headers = (("Content-Type", f"multipart/form-data; boundary={boundary}"), (USER_AGENT_HEADER, PARSE_USER_AGENT))
    answer = state.webhooks.post_once(WebhookKind.SENDGRID_INBOUND, WebhookRequest(url, body, headers))
    return {"message_id": message_id, **_answer(answer)}
