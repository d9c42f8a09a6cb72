"""The real RabbitMQ on this machine for tests: started if it does not answer (a test never skips for want of
it), and queues of a test's own, deleted after.

One broker serves every test process (pytest-xdist workers, another checkout's suite), and some tests stop
and restart it: a test holds :data:`BROKER_LOCK` for as long as it uses the broker, so a restart never cuts
another test's connection."""

from __future__ import annotations

import fcntl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pika.adapters.blocking_connection import BlockingConnection
from pika.exceptions import AMQPError

from reminder_pipeline.listening.broker import connection_parameters
from reminder_pipeline.listening.broker_queues import delete_queues
from reminder_pipeline.listening.broker_settings import BrokerSettings, broker_settings

BROKER_LOCK = Path(tempfile.gettempdir()) / "reminder_pipeline_tests.rabbitmq.lock"


def broker_answers(settings: BrokerSettings) -> bool:
    try:
        BlockingConnection(connection_parameters(settings)).close()
        return True
    except AMQPError:
        return False


def require_rabbitmq(settings: BrokerSettings) -> None:
    """Start the local broker if it does not answer; fail (never skip) if it still does not."""
    if broker_answers(settings):
        return
    for command in (["rabbitmqctl", "start_app"], ["service", "rabbitmq-server", "start"]):
        subprocess.run(command, check=False, capture_output=True, timeout=180)
        for _ in range(60):
            if broker_answers(settings):
                return
            time.sleep(1)
    pytest.fail("RabbitMQ at 127.0.0.1:5672 does not answer and could not be started")


@contextmanager
def fresh_queues(**options: Any) -> Iterator[BrokerSettings]:
    """Settings (``options`` passed on) for a payment queue and dead-letter queue of a unique name, deleted after
    (the broker started again first if a test stopped it), the broker to this test alone meanwhile."""
    settings = broker_settings(queue=f"reminders.test.{uuid.uuid4().hex[:10]}", **options)
    with BROKER_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        require_rabbitmq(settings)
        yield settings
        require_rabbitmq(settings)
        delete_queues(settings)
