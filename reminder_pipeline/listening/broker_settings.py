"""Where ``reminders listen`` finds its payment messages: the RabbitMQ URL and queues, from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from urllib.parse import urlsplit, urlunsplit

AMQP_URL_ENV = "REMINDERS_AMQP_URL"
QUEUE_ENV = "REMINDERS_AMQP_QUEUE"
DEAD_LETTER_QUEUE_ENV = "REMINDERS_AMQP_DEAD_LETTER_QUEUE"

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
"""RabbitMQ's own local default user; any other credentials only ever come from the environment."""
DEFAULT_QUEUE = "reminders.payments"
DEAD_LETTER_SUFFIX = ".dead"
DEFAULT_PREFETCH = 200
DEFAULT_BATCH_SIZE = 100
DEFAULT_IDLE_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class BrokerSettings:
    amqp_url: str = DEFAULT_AMQP_URL
    queue: str = DEFAULT_QUEUE
    dead_letter_queue: str = DEFAULT_QUEUE + DEAD_LETTER_SUFFIX
    prefetch: int = DEFAULT_PREFETCH
    """Messages the broker hands over before they are acknowledged: at least a batch, so batches fill."""
    batch_size: int = DEFAULT_BATCH_SIZE
    """At most this many messages are applied in one ledger transaction, then acknowledged together."""
    idle_poll_seconds: float = DEFAULT_IDLE_POLL_SECONDS
    """How long an idle listener waits for a message before looking whether it was asked to stop."""

    def __post_init__(self) -> None:
        if self.prefetch < 1 or self.batch_size < 1:
            raise ValueError("prefetch and batch size must be at least 1")
        if not self.queue or self.queue == self.dead_letter_queue:
            raise ValueError("the payment queue needs a name, and the dead-letter queue another one")

    @property
    def display_url(self) -> str:
        return safe_amqp_url(self.amqp_url)


def broker_settings(
    amqp_url: str | None = None, queue: str | None = None, prefetch: int | None = None, batch_size: int | None = None
) -> BrokerSettings:
    """The settings given, else ``$REMINDERS_AMQP_URL``, ``$REMINDERS_AMQP_QUEUE``,
    ``$REMINDERS_AMQP_DEAD_LETTER_QUEUE`` (default: the queue's name + ``.dead``), else the defaults.

    A prefetch smaller than the batch size would never fill a batch: the batch shrinks to it.
    """
    name = queue or os.environ.get(QUEUE_ENV) or DEFAULT_QUEUE
    dead = os.environ.get(DEAD_LETTER_QUEUE_ENV) if queue is None else None
    settings = BrokerSettings(
        amqp_url=amqp_url or os.environ.get(AMQP_URL_ENV) or DEFAULT_AMQP_URL,
        queue=name,
        dead_letter_queue=dead or name + DEAD_LETTER_SUFFIX,
    )
    if prefetch is not None:
        settings = replace(settings, prefetch=prefetch)
    if batch_size is not None:
        settings = replace(settings, batch_size=batch_size)
    return replace(settings, batch_size=min(settings.batch_size, settings.prefetch))


def safe_amqp_url(url: str) -> str:
    """The URL with its password hidden, for logs."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an AMQP URL that cannot be read)"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}{port}"))
