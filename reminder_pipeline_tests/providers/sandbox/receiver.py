"""A small local receiver of the sandbox's webhooks: a stdlib HTTP server in a thread that keeps what
arrives, answers as a test tells it, and checks signatures with the SDKs' own validators."""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sendgrid.helpers.eventwebhook import EventWebhook
from twilio.request_validator import RequestValidator

from reminder_pipeline.providers.settings import DEMO_CREDENTIALS

WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class Arrival:
    url: str
    """As the receiver saw it: ``http://127.0.0.1:PORT/path?query``."""
    headers: Message
    body: bytes
    at: float
    """``time.monotonic()`` when it arrived."""

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.url).query)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}

    def multipart(self) -> dict[str, str]:
        """A multipart/form-data body's fields, read by the standard library's MIME parser."""
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + self.body)
        fields = {}
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            fields[str(name)] = payload.decode("utf-8") if isinstance(payload, bytes) else ""
        return fields

    def events(self) -> list[dict[str, Any]]:
        loaded: list[dict[str, Any]] = json.loads(self.body)
        return loaded

    def twilio_signed(self, auth_token: str = DEMO_CREDENTIALS.twilio_auth_token) -> bool:
        signature = self.headers.get("X-Twilio-Signature") or ""
        return bool(RequestValidator(auth_token).validate(self.url, self.form(), signature))

    def sendgrid_signed(self, public_key: str) -> bool:
        signature = self.headers.get("X-Twilio-Email-Event-Webhook-Signature") or ""
        timestamp = self.headers.get("X-Twilio-Email-Event-Webhook-Timestamp") or ""
        return bool(EventWebhook(public_key).verify_signature(self.body.decode("utf-8"), signature, timestamp))


Answer = tuple[int, str, bytes]
"""Status, content type, body."""


@dataclass
class Receiver:
    base: str = ""
    arrivals: list[Arrival] = field(default_factory=list)
    answer: Callable[[Arrival], Answer] = lambda _arrival: (200, "text/plain", b"")
    hold: threading.Event | None = None
    """When set to an event: every request waits for it before being answered."""
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def url(self, path: str) -> str:
        return self.base + path

    def keep(self, arrival: Arrival) -> None:
        with self._changed:
            self.arrivals.append(arrival)
            self._changed.notify_all()

    def on(self, path: str) -> list[Arrival]:
        with self._changed:
            return [a for a in self.arrivals if a.path == path]

    def wait_for(self, count: int, path: str | None = None, timeout: float = WAIT_SECONDS) -> list[Arrival]:
        """The first ``count`` arrivals (on ``path``), once they are there; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [a for a in self.arrivals if path is None or a.path == path]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                assert left > 0, f"{len(found)} of {count} webhooks arrived"
                self._changed.wait(left)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            host, port = self.server.server_address[:2]
            arrival = Arrival(f"http://{host}:{port}{self.path}", self.headers, body, time.monotonic())
            receiver.keep(arrival)
            if receiver.hold is not None:
                receiver.hold.wait(WAIT_SECONDS)
            status, content_type, answer = receiver.answer(arrival)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        if receiver.hold is not None:
            receiver.hold.set()
        server.shutdown()
        server.server_close()
        thread.join()
