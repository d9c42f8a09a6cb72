"""``reminders serve``: the signed webhooks (and ``GET /healthz``) on uvicorn, until SIGTERM or SIGINT.

At startup every event stored but not processed yet (a crash between the two) is processed first.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import click

from reminder_pipeline.cli.base import UserMistake, examples, main, open_ledger

DEFAULT_PORT = 8000


def _host_name(_context: click.Context, parameter: click.Parameter, value: str) -> str:
    """A name the resolver can be asked about: ``not..a..host`` (an empty label) raised UnicodeError inside
    uvicorn, a traceback; a name that merely does not resolve is uvicorn's to report."""
    try:
        value.encode("idna")
    except UnicodeError as error:
        raise click.BadParameter(f"{value!r} is not a host name or address", param=parameter) from error
    return value


@main.command(
    epilog=examples(
        "reminders serve",
        "reminders serve --port 8000 --host 0.0.0.0 --db postgresql+psycopg2://reminders@db/reminders",
    )
)
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, callback=_host_name, help="The address to listen on.")
@click.option("--db", "db_url", help="Ledger database URL (default: $REMINDERS_DB_URL or the embedded SQLite file).")
@click.option(
    "--workers",
    type=click.IntRange(1, 32),
    default=1,
    show_default=True,
    help="Server processes sharing the port (on SQLite they take turns writing).",
)
def serve(port: int, host: str, db_url: str | None, workers: int) -> None:
    """Serve the webhooks: Twilio status and inbound SMS, SendGrid events and Inbound Parse, payments, Stripe.

    Secrets come from the environment only: TWILIO_AUTH_TOKEN, SENDGRID_WEBHOOK_PUBLIC_KEY,
    REMINDERS_PAYMENT_WEBHOOK_SECRET, REMINDERS_STRIPE_WEBHOOK_SECRET, REMINDERS_INBOUND_PARSE_USER and
    _PASSWORD; REMINDERS_PUBLIC_URL is the address providers call (for Twilio's signature behind a proxy).
    An endpoint whose secret is not set answers 503. With --workers N, N processes share the port,
    each with its own writer: on PostgreSQL row locks keep them apart, on a SQLite file they take turns.
    """
    from reminder_pipeline.listening.inbox import process_pending
    from reminder_pipeline.web import WebSettings, create_app
    from reminder_pipeline.web.server import serve_until_stopped, serve_workers_until_stopped

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with open_ledger(db_url, upgrade=True) as ledger:
        url = ledger.url
        pending = process_pending(ledger, datetime.now(UTC))
    try:
        app = create_app(url, settings=WebSettings.from_environment())
    except ValueError as error:
        raise UserMistake(str(error)) from error
    done = ", ".join(f"{count} {status}" for status, count in sorted(pending.items())) or "none"
    click.echo(
        f"serving the dashboard on http://{host}:{port}/ and the webhooks under /webhooks/"
        f" (events left from before, now processed: {done})",
        err=True,
    )
    if workers > 1:
        serve_workers_until_stopped(url, host, port, workers)
        return
    if not serve_until_stopped(app, host, port):
        raise UserMistake(f"the webhooks could not be served on {host}:{port} (see the log above)")
