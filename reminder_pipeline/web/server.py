"""Running the app on uvicorn in the foreground: a graceful stop on SIGTERM or SIGINT, exit code 0."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

import uvicorn
from starlette.applications import Starlette


class GracefulServer(uvicorn.Server):
    """Stops on SIGTERM or SIGINT after the requests in flight (uvicorn would re-raise the signal after)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {number: signal.signal(number, self.handle_exit) for number in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)


def serve_until_stopped(app: Starlette, host: str, port: int) -> bool:
    """Serve ``app`` until a signal; False when it never started (the port is taken, say: uvicorn logs why)."""
    server = GracefulServer(uvicorn.Config(app, host=host, port=port, log_level="info", proxy_headers=True))
    with contextlib.suppress(SystemExit):
        server.run()
    return server.started
