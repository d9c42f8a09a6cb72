"""``reminders listen``: payments from RabbitMQ, applied to the ledger and acknowledged only after the commit.

Messages are taken in batches (up to ``batch_size`` of what has arrived, never waiting for more),
each settled in one ledger transaction (:mod:`.broker_batch`): payments recorded and their
customers' pending reminders cancelled, inbox rows stored and marked.
Messages that are not payments, or that the ledger refuses, are published to the dead-letter
queue with the reason in the ``x-reminders-reason`` header (confirmed by the broker) before the
commit; after the commit the whole batch is acknowledged at once. So:

- a crash or a dropped connection before the ack redelivers the batch, and the inbox (keyed by
  ``payment_id``) makes the redelivery a no-op: no payment is lost, none applied twice;
- the ledger not answering puts the batch back on the queue (nack, requeue) and waits, backing
  off; a batch the ledger refuses while it answers is retried message by message, and a message it
  still refuses is dead-lettered with the error's class (never its text, which may quote values);
- the broker going away (a restart, a dropped connection) is met by reconnecting with backoff;
- :meth:`PaymentListener.stop` (SIGTERM, SIGINT) finishes the batch in hand, then hands back what
  was prefetched and closes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pika
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection
from pika.exceptions import AMQPError
from sqlalchemy import text

from reminder_pipeline.ledger.store import Ledger, LedgerWriteError
from reminder_pipeline.listening.broker_batch import MessageOutcome, Settlement, settle_batch
from reminder_pipeline.listening.broker_settings import BrokerSettings

log = logging.getLogger(__name__)

REASON_HEADER = "x-reminders-reason"
QUEUE_HEADER = "x-reminders-queue"
DEAD_AT_HEADER = "x-reminders-dead-lettered-at"
BROKER_ERRORS: tuple[type[BaseException], ...] = (AMQPError, OSError)
ALONE_ATTEMPTS = 2
"""Tries for one message of a batch the ledger refused while answering, before it is dead-lettered."""


@dataclass
class Backoff:
    """Waits that double from ``initial`` to ``maximum`` until :meth:`reset`."""

    initial: float = 0.2
    maximum: float = 10.0
    _next: float = field(default=0.0, init=False)

    def next(self) -> float:
        delay = self._next or self.initial
        self._next = min(delay * 2, self.maximum)
        return delay

    def reset(self) -> None:
        self._next = 0.0


@dataclass(frozen=True)
class Delivery:
    tag: int
    properties: pika.BasicProperties
    body: bytes


@dataclass
class ListenReport:
    """What a listener did: messages by outcome, connections made, batches put back for the ledger."""

    outcomes: Counter[MessageOutcome] = field(default_factory=Counter)
    connections: int = 0
    requeued_batches: int = 0
    batches: int = 0

    @property
    def messages(self) -> int:
        return sum(self.outcomes.values())

    def summary(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "outcomes": {o.value: self.outcomes[o] for o in MessageOutcome if self.outcomes[o]},
            "batches": self.batches,
            "connections": self.connections,
            "requeued_batches": self.requeued_batches,
        }


AMQP_URL_SHAPE = "amqp://USER:PASSWORD@HOST:5672/%2F (or amqps://)"


def connection_parameters(settings: BrokerSettings) -> pika.URLParameters:
    """pika's parameters for ``settings.amqp_url``; a URL that is not amqp:// or amqps://, or that pika cannot
    read, is a ValueError saying so (pika itself took http:// for amqp:// and failed on a URL without a path
    with an IndexError)."""
    if urlsplit(settings.amqp_url).scheme not in ("amqp", "amqps"):
        raise ValueError(f"an AMQP URL is {AMQP_URL_SHAPE}")
    try:
        parameters = pika.URLParameters(settings.amqp_url)
    except IndexError as error:  # pika reads the virtual host from a path it assumes is there
        raise ValueError(f"an AMQP URL is {AMQP_URL_SHAPE}") from error
    parameters.connection_attempts = 1
    parameters.socket_timeout = 5
    if parameters.blocked_connection_timeout is None:
        parameters.blocked_connection_timeout = 60  # a broker out of memory or disk: reconnect, never hang
    return parameters


def declare_queues(channel: BlockingChannel, settings: BrokerSettings) -> None:
    """The payment queue and its dead-letter queue, durable (they outlive a broker restart)."""
    channel.queue_declare(settings.queue, durable=True)
    channel.queue_declare(settings.dead_letter_queue, durable=True)


class PaymentListener:
    """Consumes ``settings.queue`` into ``ledger`` until :meth:`stop` (thread- and signal-safe)."""

    def __init__(
        self,
        ledger: Ledger,
        settings: BrokerSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_settled: Callable[[Sequence[Settlement]], None] = lambda _: None,
    ) -> None:
        self.ledger = ledger
        self.settings = settings
        self.clock = clock
        self.on_settled = on_settled
        """Called after each batch's commit and ack (progress, counts)."""
        self.report = ListenReport()
        self._stopping = threading.Event()
        self._broker_backoff = Backoff(0.2, 10.0)
        self._ledger_backoff = Backoff(0.5, 15.0)

    def stop(self) -> None:
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> ListenReport:
        """Listen until stopped, reconnecting whenever the broker goes away."""
        while not self.stopping:
            try:
                self._session()
            except BROKER_ERRORS as error:
                delay = self._broker_backoff.next()
                log.warning(
                    "broker at %s: %s; reconnecting in %.1f s", self.settings.display_url, type(error).__name__, delay
                )
                self._stopping.wait(delay)
        return self.report

    def _session(self) -> None:
        connection = BlockingConnection(connection_parameters(self.settings))
        try:
            channel = connection.channel()
            declare_queues(channel, self.settings)
            channel.basic_qos(prefetch_count=self.settings.prefetch)
            dead_letters = connection.channel()
            dead_letters.confirm_delivery()
            self.report.connections += 1
            self._broker_backoff.reset()
            log.info("listening on %s at %s", self.settings.queue, self.settings.display_url)
            self._consume(connection, channel, dead_letters)
        finally:
            if connection.is_open:
                try:
                    connection.close()
                except BROKER_ERRORS:
                    log.debug("closing the broker connection failed", exc_info=True)

    def _consume(self, connection: BlockingConnection, channel: BlockingChannel, dead: BlockingChannel) -> None:
        """Settle what has arrived, at most a batch at a time, never waiting to fill one: while a batch
        is in the ledger the next one arrives (up to ``prefetch``), so batches grow with the load and
        a lone payment is applied at once."""
        arrived: list[Delivery] = []
        cancelled: list[object] = []

        def on_message(_channel: BlockingChannel, method: Any, properties: pika.BasicProperties, body: bytes) -> None:
            arrived.append(Delivery(method.delivery_tag, properties, body))

        channel.add_on_cancel_callback(cancelled.append)
        consumer = channel.basic_consume(self.settings.queue, on_message)
        while not self.stopping:
            connection.process_data_events(time_limit=0 if arrived else self.settings.idle_poll_seconds)
            if cancelled:
                raise pika.exceptions.ConsumerCancelled("the broker cancelled the consumer (queue deleted?)")
            if arrived:
                batch = arrived[: self.settings.batch_size]
                del arrived[: len(batch)]
                self._settle(connection, channel, dead, batch)
        channel.basic_cancel(consumer)
        if arrived:
            channel.basic_nack(arrived[-1].tag, multiple=True, requeue=True)
        log.info("stopped; %s messages received but not applied handed back to the queue", len(arrived))

    def _settle(
        self, connection: BlockingConnection, channel: BlockingChannel, dead: BlockingChannel, batch: list[Delivery]
    ) -> None:
        def publish(settlements: list[Settlement]) -> None:
            for delivery, settlement in zip(batch, settlements, strict=True):
                if settlement.dead_letter:
                    self._dead_letter(dead, delivery, settlement.reason)

        try:
            settlements = settle_batch(self.ledger, [d.body for d in batch], self.clock(), publish)
        except BROKER_ERRORS:
            raise
        except Exception as error:
            if not self._ledger_answers():
                self._put_back(connection, channel, batch, error)
                return
            log.warning("a batch of %s failed (%s): settling it message by message", len(batch), error)
            for index, delivery in enumerate(batch):
                if not self._settle_alone(channel, dead, delivery):
                    self._put_back(connection, channel, batch[index:], error)
                    return
            return
        channel.basic_ack(batch[-1].tag, multiple=True)
        self._ledger_backoff.reset()
        self._count(settlements)

    def _settle_alone(self, channel: BlockingChannel, dead: BlockingChannel, delivery: Delivery) -> bool:
        """Settle one message of a failed batch, trying twice; False: the ledger stopped answering."""

        def publish(settlements: list[Settlement]) -> None:
            if settlements[0].dead_letter:
                self._dead_letter(dead, delivery, settlements[0].reason)

        for attempt in range(ALONE_ATTEMPTS):
            try:
                settlements = settle_batch(self.ledger, [delivery.body], self.clock(), publish)
                break
            except BROKER_ERRORS:
                raise
            except Exception as error:
                if not self._ledger_answers():
                    return False
                if attempt + 1 == ALONE_ATTEMPTS:
                    settlements = [self._refused_by_ledger(dead, delivery, error)]
        channel.basic_ack(delivery.tag)
        self._count(settlements)
        return True

    def _refused_by_ledger(self, dead: BlockingChannel, delivery: Delivery, error: Exception) -> Settlement:
        reason = str(error) if isinstance(error, LedgerWriteError) else f"settling it failed: {type(error).__name__}"
        log.error(
            "a message the ledger refuses while answering goes to %s: %s", self.settings.dead_letter_queue, reason
        )
        self._dead_letter(dead, delivery, reason)
        return Settlement(MessageOutcome.LEDGER_ERROR, reason)

    def _put_back(
        self, connection: BlockingConnection, channel: BlockingChannel, batch: list[Delivery], error: Exception
    ) -> None:
        """The ledger does not answer: nothing was applied; the messages go back and we wait."""
        channel.basic_nack(batch[-1].tag, multiple=True, requeue=True)
        self.report.requeued_batches += 1
        delay = self._ledger_backoff.next()
        log.warning(
            "the ledger does not answer (%s): %s messages requeued, retrying in %.1f s", error, len(batch), delay
        )
        deadline = time.monotonic() + delay
        while not self.stopping and time.monotonic() < deadline:
            connection.sleep(min(0.1, max(0.0, deadline - time.monotonic())))

    def _ledger_answers(self) -> bool:
        try:
            with self.ledger.begin() as probe:
                probe.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def _dead_letter(self, dead: BlockingChannel, delivery: Delivery, reason: str) -> None:
        original = delivery.properties
        headers = dict(original.headers or {})
        headers.update(
            {
                REASON_HEADER: reason,
                QUEUE_HEADER: self.settings.queue,
                DEAD_AT_HEADER: self.clock().isoformat(timespec="seconds"),
            }
        )
        properties = pika.BasicProperties(
            content_type=original.content_type,
            content_encoding=original.content_encoding,
            message_id=original.message_id,
            correlation_id=original.correlation_id,
            timestamp=original.timestamp,
            headers=headers,
            delivery_mode=pika.DeliveryMode.Persistent,
        )
        dead.basic_publish("", self.settings.dead_letter_queue, delivery.body, properties, mandatory=True)

    def _count(self, settlements: Sequence[Settlement]) -> None:
        self.report.batches += 1
        self.report.outcomes.update(s.outcome for s in settlements)
        self.on_settled(settlements)
