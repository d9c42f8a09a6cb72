"""``reminders sandbox``: the provider sandbox in the foreground, until SIGTERM or SIGINT."""

from __future__ import annotations

import os
from pathlib import Path

import click

from reminder_pipeline import settings
from reminder_pipeline.cli.base import UserMistake, main

DEFAULT_PORT = 8765


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


@main.command()
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
def sandbox(port: int, host: str, faults: str, log_path: Path | None) -> None:
    """Serve Twilio's and SendGrid's APIs (and GET /sandbox/messages) on one local port."""
    from reminder_pipeline.providers.sandbox import FaultSpec, RunningSandbox, SandboxConfig, serve_until_stopped

    try:
        spec = FaultSpec.parse(faults)
    except ValueError as error:
        raise UserMistake(str(error)) from error
    journal = log_path or default_log()
    config = SandboxConfig(port=port, host=host, faults=spec, log_path=journal)

    def announce(running: RunningSandbox) -> None:
        shown = f", faults {spec.describe()}" if spec.describe() else ""
        click.echo(
            f"sandbox listening on {running.url} (messages at {running.url}/sandbox/messages, log {journal}{shown})"
        )

    try:
        serve_until_stopped(config, announce)
    except OSError as error:
        raise UserMistake(f"the sandbox cannot listen on {host}:{port} or write {journal}: {error}") from error
