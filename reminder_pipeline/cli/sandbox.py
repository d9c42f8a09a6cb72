"""``reminders sandbox``: the provider sandbox in the foreground, until SIGTERM or SIGINT."""

from __future__ import annotations

import os
from pathlib import Path

import click

from reminder_pipeline import settings
from reminder_pipeline.cli.base import UserMistake, examples, main

DEFAULT_PORT = 8765


def _webhook_url(_context: click.Context, parameter: click.Parameter, value: str | None) -> str | None:
    from reminder_pipeline.providers.sandbox.poster import valid_url

    if value is not None and not valid_url(value):
        raise click.BadParameter(f"{value!r} is not an http(s) URL with a host", param=parameter)
    return value


def _writable_file(value: Path | None) -> Path | None:
    """A file that exists or can be made: its nearest existing parent a writable folder."""
    if value is None:
        return None
    nearest = next(p for p in value.absolute().parents if p.exists())
    if not nearest.is_dir() or not os.access(nearest, os.W_OK | os.X_OK):
        raise click.BadParameter(f"{value} cannot be written: {nearest} is not a writable folder")
    return value


def default_log() -> Path:
    return settings.data_dir() / "sandbox" / "messages.jsonl"


@main.command(
    epilog=examples(
        "reminders sandbox --port 8765",
        "reminders sandbox --port 8765 --faults error_rate=0.05,rate_limit=50/s",
        "# then, in the shell that sends:",
        "export REMINDERS_SENDGRID_BASE_URL=http://127.0.0.1:8765 REMINDERS_TWILIO_BASE_URL=http://127.0.0.1:8765",
    )
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True, help="0: any free port."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--faults", default="", help='Faults to inject, e.g. "heavy" or "error_rate=0.05,rate_limit=20/s".')
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    callback=lambda _ctx, _param, value: _writable_file(value),
    help="The journal of accepted messages, kept across restarts [default: <data dir>/sandbox/messages.jsonl].",
)
@click.option(
    "--sendgrid-events-url",
    default=None,
    callback=_webhook_url,
    help="Where to post SendGrid's signed event batches, e.g. http://127.0.0.1:8000/webhooks/sendgrid/events.",
)
@click.option(
    "--twilio-inbound-url",
    default=None,
    callback=_webhook_url,
    help="Where POST /sandbox/inbound/sms posts Twilio's webhook.",
)
@click.option(
    "--sendgrid-inbound-url",
    default=None,
    callback=_webhook_url,
    help="Where POST /sandbox/inbound/email posts SendGrid's Inbound Parse (may carry user:password@).",
)
def sandbox(
    port: int,
    host: str,
    faults: str,
    log_path: Path | None,
    sendgrid_events_url: str | None,
    twilio_inbound_url: str | None,
    sendgrid_inbound_url: str | None,
) -> None:
    """Serve Twilio's and SendGrid's APIs (and GET /sandbox/messages) on one local port.

    Twilio status callbacks go to each message's StatusCallback; the event webhook's public key is
    printed at start and served at GET /sandbox/webhooks.
    """
    from reminder_pipeline.providers.sandbox import FaultSpec, RunningSandbox, SandboxConfig, serve_until_stopped

    try:
        spec = FaultSpec.parse(faults)
    except ValueError as error:
        raise UserMistake(str(error)) from error
    journal = log_path or default_log()
    config = SandboxConfig(
        port=port,
        host=host,
        faults=spec,
        log_path=journal,
        sendgrid_events_url=sendgrid_events_url,
        twilio_inbound_url=twilio_inbound_url,
        sendgrid_inbound_url=sendgrid_inbound_url,
    )

    def announce(running: RunningSandbox) -> None:
        shown = f", faults {spec.describe()}" if spec.describe() else ""
        click.echo(
            f"sandbox listening on {running.url} (messages at {running.url}/sandbox/messages, log {journal}{shown})"
        )
        click.echo(f"event webhook public key: {running.state.webhooks.key.public_key}")

    try:
        serve_until_stopped(config, announce)
    except OSError as error:
        raise UserMistake(f"the sandbox cannot listen on {host}:{port} or write {journal}: {error}") from error
