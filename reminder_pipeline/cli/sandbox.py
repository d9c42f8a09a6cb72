"""``reminders sandbox``: the provider sandbox in the foreground, until SIGTERM or SIGINT."""

from __future__ import annotations

from pathlib import Path

import click

from reminder_pipeline import settings
from reminder_pipeline.cli.base import UserMistake, main

DEFAULT_PORT = 8765


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
