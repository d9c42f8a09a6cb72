"""The sandbox's HTTP server: Twilio's and SendGrid's APIs and the ``/sandbox`` endpoints on one port.

A stdlib threading server (a thread per connection, HTTP/1.1 keep-alive) so that the sandbox can do
what a real network does to a client: answer late, never answer, or close a connection unanswered.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from reminder_pipeline.providers.sandbox import control_api, sendgrid_api, twilio_api
from reminder_pipeline.providers.sandbox.control import SandboxControl
from reminder_pipeline.providers.sandbox.exchange import Reply, Request
from reminder_pipeline.providers.sandbox.injector import ProviderName
from reminder_pipeline.providers.sandbox.state import Outcome, SandboxConfig, SandboxState

logger = logging.getLogger(__name__)

PROVIDER_PREFIXES = {twilio_api.PREFIX: ProviderName.TWILIO, "/v3/": ProviderName.SENDGRID}
HANDLERS = {ProviderName.TWILIO: twilio_api.handle, ProviderName.SENDGRID: sendgrid_api.handle}


class SandboxApp:
    """Routes a request to its provider (after the latency and drop faults) or to the control endpoints."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def handle(self, request: Request) -> Reply | None:
        """The reply, or None to close the connection without one."""
        if request.path == control_api.PREFIX or request.path.startswith(control_api.PREFIX + "/"):
            return control_api.handle(self.state, request)
        provider = next((p for prefix, p in PROVIDER_PREFIXES.items() if request.path.startswith(prefix)), None)
        if provider is None:
            return Reply.json(404, {"error": f"not an endpoint of the sandbox: {request.path}"})
        self.state.stats.count(provider, Outcome.REQUESTS)
        delay = self.state.injector.delay_seconds()
        if delay > 0:
            self.state.stopping.wait(delay)
        if self.state.injector.drops():
            self.state.stats.count(provider, Outcome.DROPPED)
            return None
        return HANDLERS[provider](self.state, request)


class SandboxRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 1 << 16
    """Headers and body leave in one write: separate small writes meet delayed ACKs and cost 40 ms each."""
    server_version = "reminders-sandbox"
    sys_version = ""
    server: SandboxHTTPServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        request = Request(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True), self.headers, body)
        try:
            reply = self.server.app.handle(request)
        except Exception:
            logger.exception("the sandbox failed on %s %s", self.command, parts.path)
            reply = Reply.json(500, {"error": "the sandbox failed; see its log"})
        if reply is None or (self.server.app.state.stopping.is_set() and not reply.hold_seconds):
            self.close_connection = True
            return
        if reply.hold_seconds > 0:
            self.server.app.state.stopping.wait(reply.hold_seconds)
        try:
            self.send_response(reply.status)
            if reply.content_type:
                self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout) and left
            self.close_connection = True


class SandboxHTTPServer(ThreadingHTTPServer):
    """Keeps its open connections, so that stopping closes them: a kept-alive connection must not go on
    being served by a stopped sandbox (a restart on the same port would answer with the old state)."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, SandboxRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-request is the network's doing, not the sandbox's: no traceback."""
        logger.debug("connection from %s ended abruptly", client_address, exc_info=True)

    def close_connections(self) -> None:
        with self._connections_lock:
            open_now = list(self._connections)
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


@dataclass(frozen=True)
class RunningSandbox:
    url: str
    """``http://HOST:PORT``: the base URL for both SDKs and for :class:`SandboxControl`."""
    port: int
    control: SandboxControl
    state: SandboxState
    """The sandbox's own objects, for a test in the same process; everything else goes over HTTP."""


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else host  # noqa: S104 (naming the wildcard, not binding it)
    return f"http://{shown}:{port}"


@contextmanager
def running_sandbox(config: SandboxConfig | None = None) -> Iterator[RunningSandbox]:
    """The sandbox serving in a background thread until the block ends (``port=0``: any free port)."""
    config = config or SandboxConfig()
    state = SandboxState(config)
    try:
        server = SandboxHTTPServer((config.host, config.port), SandboxApp(state))
    except BaseException:
        state.close()
        raise
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.name = "sandbox-server"
    thread.start()
    port = int(server.server_address[1])
    url = _url(config.host, port)
    try:
        yield RunningSandbox(url=url, port=port, control=SandboxControl(url), state=state)
    finally:
        state.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join()
        state.close()


def serve_until_stopped(config: SandboxConfig, announce: Callable[[RunningSandbox], None]) -> None:
    """Serve in the foreground until SIGTERM or SIGINT (for ``reminders sandbox``); must run in the main thread."""
    stop = threading.Event()

    def request_stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        with running_sandbox(config) as sandbox:
            announce(sandbox)
            while not stop.wait(0.5):
                pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
