"""``reminders listen``: payments from RabbitMQ into the ledger, until SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import signal
from types import FrameType

import click

from reminder_pipeline.cli.base import UserMistake, emit, examples, main, open_ledger


@main.command(
    epilog=examples(
        "reminders listen",
        "reminders listen --amqp-url amqp://reminders@rabbitmq:5672/%2F --queue billing.payments --json",
    )
)
@click.option(
    "--amqp-url", help="RabbitMQ URL (default: $REMINDERS_AMQP_URL or amqp://guest:guest@127.0.0.1:5672/%2F)."
)
@click.option("--queue", help="The payment queue (default: $REMINDERS_AMQP_QUEUE or reminders.payments).")
@click.option("--db", "db_url", help="Ledger database URL (default: $REMINDERS_DB_URL or the embedded SQLite file).")
@click.option("--prefetch", type=click.IntRange(1, 10_000), help="Messages held unacknowledged at once [default: 200].")
@click.option(
    "--batch-size", type=click.IntRange(1, 1_000), help="Messages applied per ledger transaction [default: 100]."
)
@click.option("--json", "as_json", is_flag=True, help="On exit, print what was done as one JSON object.")
def listen(
    amqp_url: str | None,
    queue: str | None,
    db_url: str | None,
    prefetch: int | None,
    batch_size: int | None,
    as_json: bool,
) -> None:
    """Record each payment message and cancel its customer's pending reminders, acknowledging it only after
    the commit. Messages that are not payments go to the dead-letter queue (the queue's name + ``.dead``)
    with the reason in the ``x-reminders-reason`` header. Reconnects when the broker goes away."""
    from reminder_pipeline.listening.broker import PaymentListener, connection_parameters
    from reminder_pipeline.listening.broker_settings import broker_settings, safe_amqp_url

    try:
        settings = broker_settings(amqp_url, queue, prefetch, batch_size)
        connection_parameters(settings)
    except ValueError as error:
        shown = safe_amqp_url(amqp_url or "") if amqp_url else "the AMQP URL"
        raise UserMistake(f"{shown} cannot be used: {error}", as_json=as_json) from error
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("pika").setLevel(logging.WARNING)
    with open_ledger(db_url, upgrade=True) as ledger:
        listener = PaymentListener(ledger, settings)

        def stop(_signal: int, _frame: FrameType | None) -> None:
            listener.stop()

        previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            click.echo(
                f"listening for payments on {settings.queue} at {settings.display_url} "
                f"(dead letters to {settings.dead_letter_queue}, ledger {ledger.display_url})",
                err=True,
            )
            report = listener.run()
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
    summary = report.summary()
    outcomes = ", ".join(f"{count} {outcome}" for outcome, count in summary["outcomes"].items()) or "none"
    emit(summary, as_json, f"{summary['messages']} messages ({outcomes}); {summary['connections']} connections")
