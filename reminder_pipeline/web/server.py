"""Running the app on uvicorn in the foreground: a graceful stop on SIGTERM or SIGINT, exit code 0.

With several workers, uvicorn's supervisor starts that many processes on one socket, each building
the app from the environment (:func:`app_from_environment`: the ledger's URL is handed over in
``REMINDERS_DB_URL``), and stops them gracefully on SIGTERM or SIGINT.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
from collections.abc import Iterator

import uvicorn
from starlette.applications import Starlette

log = logging.getLogger("reminder_pipeline.web")


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


WORKER_APP = "reminder_pipeline.web.server:app_from_environment"


def app_from_environment() -> Starlette:
    """The app of one worker: the ledger at ``$REMINDERS_DB_URL``, the settings of the environment."""
    from reminder_pipeline import settings as product_settings
    from reminder_pipeline.web import WebSettings, create_app

    return create_app(product_settings.ledger_url(), settings=WebSettings.from_environment())


def serve_workers_until_stopped(ledger_url: str, host: str, port: int, workers: int) -> None:
    """``workers`` processes serving the app on ``host:port`` until SIGTERM or SIGINT.

    Without ``REMINDERS_SESSION_SECRET`` each worker would make its own, and a dashboard session opened on
    one would be refused by the others: one secret is made here for all of them (sessions then end when
    the server restarts, as with one process)."""
    from reminder_pipeline import settings as product_settings
    from reminder_pipeline.web.dashboard.settings import SESSION_SECRET_ENV

    os.environ[product_settings.DB_URL_ENV] = ledger_url
    if not os.environ.get(SESSION_SECRET_ENV, "").strip():
        log.warning("%s is not set: sessions end when the server restarts", SESSION_SECRET_ENV)
        os.environ[SESSION_SECRET_ENV] = secrets.token_urlsafe(32)
    uvicorn.run(WORKER_APP, factory=True, host=host, port=port, workers=workers, log_level="info", proxy_headers=True)
