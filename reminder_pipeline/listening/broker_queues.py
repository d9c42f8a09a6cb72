"""The payment queues as a publisher or an operator sees them: publish, count, read the dead letters, delete."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from reminder_pipeline.listening.broker import REASON_HEADER, connection_parameters, declare_queues
from reminder_pipeline.listening.broker_settings import BrokerSettings


@dataclass(frozen=True)
class DeadLetter:
    body: bytes
    reason: str
    headers: Mapping[str, Any]


@contextmanager
def broker_channel(settings: BrokerSettings, *, confirm: bool = True) -> Iterator[BlockingChannel]:
    """A channel on a new connection, the queues declared; publishes confirmed by the broker if ``confirm``."""
    connection = BlockingConnection(connection_parameters(settings))
    try:
        channel = connection.channel()
        declare_queues(channel, settings)
        if confirm:
            channel.confirm_delivery()
        yield channel
    finally:
        if connection.is_open:
            connection.close()


def payment_body(payment: Mapping[str, str]) -> bytes:
    return json.dumps(dict(payment), separators=(",", ":")).encode("utf-8")


def publish(channel: BlockingChannel, queue: str, body: bytes, headers: Mapping[str, Any] | None = None) -> None:
    """One persistent message to ``queue`` (through the default exchange)."""
    properties = pika.BasicProperties(
        content_type="application/json", delivery_mode=pika.DeliveryMode.Persistent, headers=dict(headers or {})
    )
    channel.basic_publish("", queue, body, properties, mandatory=True)


def publish_all(settings: BrokerSettings, bodies: Iterable[bytes]) -> int:
    """Publish ``bodies`` to the payment queue, each confirmed; how many."""
    count = 0
    with broker_channel(settings) as channel:
        for body in bodies:
            publish(channel, settings.queue, body)
            count += 1
    return count


def queue_depth(settings: BrokerSettings, queue: str | None = None) -> int:
    """Messages ready in ``queue`` (default: the payment queue), not counting those handed to a consumer."""
    with broker_channel(settings, confirm=False) as channel:
        declared = channel.queue_declare(queue or settings.queue, durable=True, passive=True)
        return int(declared.method.message_count)


def take_dead_letters(settings: BrokerSettings) -> list[DeadLetter]:
    """Every message in the dead-letter queue, taken off it (acknowledged), oldest first."""
    taken: list[DeadLetter] = []
    with broker_channel(settings, confirm=False) as channel:
        while True:
            method, properties, body = channel.basic_get(settings.dead_letter_queue, auto_ack=False)
            if method is None:
                break
            headers = dict(properties.headers or {})
            reason = headers.get(REASON_HEADER, "")
            text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
            taken.append(DeadLetter(body, text, headers))
            channel.basic_ack(method.delivery_tag)
    return taken


def delete_queues(settings: BrokerSettings) -> None:
    """Delete the payment queue and its dead-letter queue, with whatever they hold."""
    connection = BlockingConnection(connection_parameters(settings))
    try:
        channel = connection.channel()
        channel.queue_delete(settings.queue)
        channel.queue_delete(settings.dead_letter_queue)
    finally:
        if connection.is_open:
            connection.close()
