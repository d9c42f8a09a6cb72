"""A client of a sandbox's ``/sandbox`` endpoints, in this process or another (``reminders sandbox``)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any
from urllib.parse import urlencode

NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""The sandbox is local: no proxy from the environment may stand between."""


INJECT_WAIT_SECONDS = 30.0
"""An injected message waits for the receiver's answer (the sandbox's webhook timeout)."""


class SandboxControlError(RuntimeError):
    """The sandbox refused a control request, or does not answer."""


class Keep(Enum):
    """For :meth:`SandboxControl.set_webhook_urls`: leave this URL as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class InboundAnswer:
    """What the receiver answered an injected inbound message (``status`` None: it could not be reached)."""

    status: int | None
    body: str
    content_type: str | None
    error: str | None
    message_id: str
    """The SMS's ``MessageSid``, or the email's ``Message-ID`` header."""
    replies: list[str] = field(default_factory=list)
    """SMS: the texts of the TwiML ``<Message>`` verbs, which Twilio would send back."""
    auto_reply: str | None = None
    """SMS: Twilio's own answer to an opt-out, opt-in or help keyword."""

    @classmethod
    def of(cls, answer: Mapping[str, Any]) -> InboundAnswer:
        return cls(
            status=answer["status"],
            body=answer["body"],
            content_type=answer["content_type"],
            error=answer["error"],
            message_id=answer.get("message_sid") or answer["message_id"],
            replies=list(answer.get("replies") or []),
            auto_reply=answer.get("auto_reply"),
        )


class SandboxControl:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, payload: Any = None, *, waits: float = 0.0) -> Any:
        """``waits``: how long the sandbox may take beyond the usual timeout (it waits for something)."""
        data = json.dumps(payload).encode("utf-8") if payload is not None else None
        request = urllib.request.Request(f"{self.url}/sandbox{path}", data=data, method=method)  # noqa: S310 (http only)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with NO_PROXY.open(request, timeout=self.timeout + waits) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            try:
                said = json.loads(error.read()).get("error", "")
            except (ValueError, AttributeError):
                said = ""
            raise SandboxControlError(f"the sandbox refused {method} /sandbox{path} ({error.code}): {said}") from None
        except (urllib.error.URLError, OSError) as error:
            raise SandboxControlError(f"the sandbox at {self.url} does not answer: {error}") from error

    def messages(self, *, channel: str | None = None, reminder_key: str | None = None) -> list[dict[str, Any]]:
        """Every message the sandbox accepted (optionally of one channel or reminder key), oldest first."""
        query = {k: v for k, v in (("channel", channel), ("reminder_key", reminder_key)) if v is not None}
        found: list[dict[str, Any]] = self._call("GET", "/messages" + (f"?{urlencode(query)}" if query else ""))
        return found

    def reset(self) -> int:
        """Forget every message; how many there were."""
        return int(self._call("DELETE", "/messages")["deleted"])

    def faults(self) -> str:
        return str(self._call("GET", "/faults")["spec"])

    def set_faults(self, spec: str) -> str:
        """Replace the faults (``""``: none); the spec as the sandbox read it."""
        return str(self._call("PUT", "/faults", {"spec": spec})["spec"])

    def clock(self) -> datetime:
        return datetime.fromisoformat(self._call("GET", "/clock")["now"])

    def set_clock(self, now: datetime | None) -> datetime:
        """Run the sandbox's clock from ``now`` (with an offset), or on real time again with None."""
        answer = self._call("PUT", "/clock", {"now": now.isoformat() if now is not None else None})
        return datetime.fromisoformat(answer["now"])

    def stats(self) -> dict[str, dict[str, int]]:
        """Provider requests per provider (``twilio``, ``sendgrid``) and outcome (``accepted``, ``dropped``...)."""
        counts: dict[str, dict[str, int]] = self._call("GET", "/stats")
        return counts

    def reset_stats(self) -> None:
        self._call("DELETE", "/stats")

    def webhooks(self) -> dict[str, Any]:
        """``{"urls", "public_key", "pending", "counts": {kind: {outcome: n}}}``."""
        state: dict[str, Any] = self._call("GET", "/webhooks")
        return state

    def webhook_public_key(self) -> str:
        """The event webhook's public key (base64 SPKI DER), for ``SENDGRID_WEBHOOK_PUBLIC_KEY``."""
        return str(self.webhooks()["public_key"])

    def set_webhook_urls(
        self,
        *,
        sendgrid_events_url: str | Keep | None = KEEP,
        twilio_inbound_url: str | Keep | None = KEEP,
        sendgrid_inbound_url: str | Keep | None = KEEP,
    ) -> dict[str, str | None]:
        """Point the receivers elsewhere (None: nowhere); the URLs as the sandbox has them (without credentials)."""
        given = {
            "sendgrid_events_url": sendgrid_events_url,
            "twilio_inbound_url": twilio_inbound_url,
            "sendgrid_inbound_url": sendgrid_inbound_url,
        }
        changes = {name: url for name, url in given.items() if not isinstance(url, Keep)}
        if not changes:
            raise ValueError("name at least one URL to set")
        urls: dict[str, str | None] = self._call("PUT", "/webhooks", changes)["urls"]
        return urls

    def wait_for_webhooks(self, timeout_seconds: float = 30.0) -> dict[str, Any]:
        """Return once every webhook due was sent or given up (the counts); SandboxControlError if not in time."""
        answer: dict[str, Any] = self._call(
            "POST", "/webhooks/wait", {"timeout": timeout_seconds}, waits=timeout_seconds
        )
        if not answer["idle"]:
            raise SandboxControlError(f"{answer['pending']} webhooks still waiting after {timeout_seconds:g} s")
        return answer

    def inject_sms(self, from_: str, to: str, body: str, *, messaging_service_sid: str | None = None) -> InboundAnswer:
        """An SMS from ``from_`` to the number ``to``, posted to the inbound URL as Twilio posts it."""
        payload = {"from": from_, "to": to, "body": body, "messaging_service_sid": messaging_service_sid}
        return InboundAnswer.of(self._call("POST", "/inbound/sms", payload, waits=INJECT_WAIT_SECONDS))

    def inject_email(
        self,
        from_: str,
        to: str,
        subject: str,
        text: str,
        *,
        html: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> InboundAnswer:
        """An email posted to the Inbound Parse URL as SendGrid posts it; ``headers``: extra ones (In-Reply-To...)."""
        payload = {"from": from_, "to": to, "subject": subject, "text": text, "html": html, "headers": headers}
        return InboundAnswer.of(self._call("POST", "/inbound/email", payload, waits=INJECT_WAIT_SECONDS))

    def wait_until_ready(self, timeout_seconds: float = 30.0) -> None:
        """Return once the sandbox answers (one started in another process takes a moment)."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                self._call("GET", "/health")
                return
            except SandboxControlError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
