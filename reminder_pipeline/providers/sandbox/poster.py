"""The sandbox's outgoing HTTP: one POST to a receiver, answered or not, never raising.

Like the providers: no proxy, no redirects followed, a bounded wait, credentials in the URL's
userinfo sent as basic auth (SendGrid Inbound Parse allows ``https://user:pass@host/path``) and
not in the request line. A stopping sandbox aborts the posts in flight, so none outlives it.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import socket
import threading
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT_HEADER = "User-Agent"


@dataclass(frozen=True)
class WebhookRequest:
    url: str
    body: bytes
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class WebhookAnswer:
    """What the receiver answered: ``status`` None when it could not be reached or did not answer in time."""

    status: int | None
    body: bytes = b""
    content_type: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def without_credentials(url: str) -> str:
    """``url`` with any ``user:password@`` taken out (for showing it, and for the request line)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def valid_url(url: str) -> bool:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


class Poster:
    """Thread-safe; :meth:`abort` ends every post in flight and refuses new ones."""

    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        self._lock = threading.Lock()
        self._open: set[http.client.HTTPConnection] = set()
        self._aborted = False

    def post(self, request: WebhookRequest) -> WebhookAnswer:
        if not valid_url(request.url):
            return WebhookAnswer(None, error="not an http(s) URL")
        parts = urlsplit(request.url)
        headers = dict(request.headers)
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        headers.setdefault("Content-Length", str(len(request.body)))
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = kind(parts.hostname or "", parts.port, timeout=self.timeout_seconds)
        with self._lock:
            if self._aborted:
                return WebhookAnswer(None, error="the sandbox is stopping")
            self._open.add(connection)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("POST", target, body=request.body, headers=headers)
            response = connection.getresponse()
            body = response.read(MAX_ANSWER_BYTES)
            return WebhookAnswer(response.status, body, response.getheader("Content-Type"))
        except (OSError, http.client.HTTPException, ValueError) as error:
            return WebhookAnswer(None, error=f"{type(error).__name__}: {error}"[:200])
        finally:
            with self._lock:
                self._open.discard(connection)
            connection.close()

    def abort(self) -> None:
        with self._lock:
            self._aborted = True
            open_now = list(self._open)
        for connection in open_now:
            if connection.sock is not None:
                with contextlib.suppress(OSError):
                    connection.sock.shutdown(socket.SHUT_RDWR)
