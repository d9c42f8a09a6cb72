"""SendGrid Inbound Parse posts (``multipart/form-data``) read into their text fields.

Parsed with the standard library's MIME parser (the body is already capped). Each field is decoded
with the charset SendGrid names for it in its ``charsets`` field, else UTF-8; parts that are files
(attachments) are left out. What is stored is a JSON object of the fields, and its dedupe key the
sha256 of that object, so a retried post (a new boundary, the same fields) is a no-op.
"""

from __future__ import annotations

import hashlib
import json
from email import policy
from email.message import Message
from email.parser import BytesParser

from reminder_pipeline.web.refusal import Refusal, malformed

MAX_FIELDS = 200


def _charsets(parts: list[tuple[str, bytes]]) -> dict[str, str]:
    raw = next((payload for name, payload in parts if name == "charsets"), None)
    if raw is None:
        return {}
    try:
        named = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    if not isinstance(named, dict):
        return {}
    return {str(k): str(v) for k, v in named.items() if isinstance(v, str)}


def _decode(payload: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", errors="replace")


def _text_parts(message: Message) -> list[tuple[str, bytes]]:
    parts: list[tuple[str, bytes]] = []
    for part in message.get_payload() if message.is_multipart() else []:
        if not isinstance(part, Message) or part.get_filename() is not None:
            continue
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            continue
        payload = part.get_payload(decode=True)
        parts.append((name, payload if isinstance(payload, bytes) else b""))
        if len(parts) > MAX_FIELDS:
            raise malformed(f"more than {MAX_FIELDS} form fields")
    return parts


def parse_inbound(content_type: str, body: bytes) -> dict[str, str]:
    """The post's text fields by name (the last value of a repeated name), or a 4xx refusal."""
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type.lower():
        raise Refusal(415, "Inbound Parse posts multipart/form-data with a boundary")
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    try:
        message = BytesParser(policy=policy.compat32).parsebytes(header + body)
        parts = _text_parts(message)
    except Refusal:
        raise
    except Exception:  # the stdlib parser is lenient; anything it still cannot read is the sender's
        raise malformed("the multipart body cannot be read") from None
    if not parts:
        raise malformed("the multipart body has no form fields")
    charsets = _charsets(parts)
    return {name: _decode(payload, charsets.get(name)) for name, payload in parts}


def stored_form(fields: dict[str, str]) -> tuple[str, str]:
    """``(body, dedupe_key)``: the fields as canonical JSON, and its sha256."""
    body = json.dumps(fields, sort_keys=True, ensure_ascii=False)
    return body, "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()
