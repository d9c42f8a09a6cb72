"""The pipeline as its schedules and sensors run it, step by step, on the simulated clock.

Each step calls the same services the Dagster assets call (``ingestion.service``, ``risk.service``,
``reminders.service``, ``delivery.service``, ``listening``), so a simulation runs the product's own
code path. A step that meets a database gone away or locked is run again, as the assets' step retries
would (every step is safe to run again); one more failure than that stops the simulation.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlalchemy import create_engine, exc, text
from sqlalchemy.pool import NullPool

from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.outbox import OUTBOX_LOCK
from reminder_pipeline.core.policy.config import Policy
from reminder_pipeline.core.rendering.links import LinkSigner
from reminder_pipeline.core.rendering.templates import Templates
from reminder_pipeline.delivery.follow_up import FollowUp
from reminder_pipeline.delivery.service import DeliveryOptions, DeliveryReport, deliver
from reminder_pipeline.ingestion.service import ingest_from_source
from reminder_pipeline.ingestion.sources import DropFolder
from reminder_pipeline.ledger import listening as queries
from reminder_pipeline.ledger.store import Ledger, LedgerWriteError
from reminder_pipeline.listening.delivery_events import settle_pending
from reminder_pipeline.listening.handlers import handlers_for
from reminder_pipeline.listening.inbox import default_handlers, process_pending
from reminder_pipeline.listening.status_lookups import look_up_unconfirmed
from reminder_pipeline.providers.base import Provider
from reminder_pipeline.reminders.service import plan_and_record_day, render_day
from reminder_pipeline.risk.service import (
    features_by_day,
    score_and_record_day,
    segment_and_record_day,
    train_and_register,
)
from reminder_pipeline.simulation.bookkeeping import Bookkeeping
from reminder_pipeline.simulation.clock import BUSINESS_TZ, SimClock
from reminder_pipeline.statements.service import statements_day

T = TypeVar("T")
ATTEMPTS = 6
PAUSE_SECONDS = 0.5
LOOKUP_AFTER = timedelta(hours=6)
KILL_AFTER_ACCEPTED = 5
"""A killed delivery process dies once the sandbox accepted this many of its messages: mid-batch."""
KILL_WAIT_SECONDS = 60.0
ENTITIES = (Entity.CUSTOMERS, Entity.INVOICES, Entity.PAYMENTS)


@dataclass(frozen=True)
class Services:
    ledger: Ledger
    policy: Policy
    templates: Templates
    signer: LinkSigner
    drop: DropFolder
    providers: tuple[Provider, ...]


def heals(error: BaseException) -> bool:
    """A database that went away or was locked for a moment (here or as a cause): the step may run again."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, LedgerWriteError | exc.OperationalError | exc.InterfaceError | exc.DisconnectionError):
            return True
        if isinstance(current, exc.DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False


class Pipeline:
    def __init__(self, services: Services, clock: SimClock, books: Bookkeeping, run_id: str) -> None:
        self.s, self.clock, self.books, self.run_id = services, clock, books, run_id
        self.follow_up = FollowUp(services.ledger, services.policy, self._render)
        self.options = DeliveryOptions(
            promise_grace_days=services.policy.contact.promise_grace_days, sender_name=services.policy.sender.name
        )

    def _render(self, day: date, now: datetime) -> object:
        return render_day(self.s.ledger, self.s.policy, self.s.templates, self.s.signer, day, now)

    def retried(self, step: str, action: Callable[[], T]) -> T:
        """``action``, run again (up to :data:`ATTEMPTS` times) while the database is away or locked."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with self.books.timed(step):
                    return action()
            except Exception as error:
                if attempt == ATTEMPTS or not heals(error):
                    raise
                self.books.retried(step)
                time.sleep(PAUSE_SECONDS * attempt)
        raise AssertionError("unreachable")

    def ingest(self, day: date) -> None:
        for entity in ENTITIES:
            reports = self.retried(
                "ingest", partial(ingest_from_source, self.s.ledger, self.s.drop.read, entity, [day])
            )
            self.books.add_ingest(reports)

    def train(self, as_of: date) -> str:
        """The risk model, trained once as of ``as_of`` through its quality gate; what became of it."""
        training = train_and_register(self.s.ledger, as_of, run_id=self.run_id)
        return training.status or "not trained (too little history)"

    def plan(self, day: date, now: datetime) -> None:
        """Features, scores, segments, the plan and the messages of ``day``, as of ``now``."""
        policy = self.s.policy

        def risk() -> None:
            with self.books.timed("features"):
                (scored_day, features), *_ = features_by_day(self.s.ledger, [day])
            with self.books.timed("scores"):
                score_and_record_day(self.s.ledger, features, scored_day, policy.segmentation)
            segment_and_record_day(self.s.ledger, features, scored_day, policy.segmentation, policy.version)

        self.retried("risk", risk)
        plan = self.retried(
            "plan",
            lambda: plan_and_record_day(self.s.ledger, policy, day, now, run_id=self.run_id, business_tz=BUSINESS_TZ),
        )
        self.books.add_plan(plan.summary())
        messages = self.retried(
            "render", lambda: render_day(self.s.ledger, policy, self.s.templates, self.s.signer, day, now)
        )
        self.books.add_messages(messages.summary())

    def statements(self, day: date, now: datetime) -> None:
        """The statement run of ``day`` (its billing cycle's customers), as of ``now``."""
        s = self.s
        done = self.retried(
            "statements",
            lambda: statements_day(s.ledger, s.policy, s.templates, s.signer, day, now, business_tz=BUSINESS_TZ),
        )
        self.books.add_statements(done.summary())

    def deliver(self, providers: tuple[Provider, ...] | None = None) -> None:
        """One delivery run per provider, side by side (as the two delivery assets run in their own pools)."""

        def run(provider: Provider) -> DeliveryReport:
            return self.retried(
                f"deliver_{provider.channel.value}",
                lambda: deliver(self.s.ledger, provider, self.clock, self.options, follow_up=self.follow_up),
            )

        chosen = providers or self.s.providers
        with ThreadPoolExecutor(len(chosen)) as pool:
            for report in pool.map(run, chosen):
                self.books.add_delivery(report.summary())

    def settle(self) -> None:
        """delivery_status, as its sensor starts it when events arrive: stored events processed, those that
        came while their row was still being sent settled, the fallbacks they planned written. After every
        delivery run, so that a fallback never waits on which came first, the event or the row's answer."""
        ledger, policy, now = self.s.ledger, self.s.policy, self.clock()

        def settle() -> None:
            process_pending(ledger, now, {**default_handlers(), **handlers_for(policy)})
            with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
                settle_pending(connection, policy, now)
            with ledger.begin() as connection:
                days = queries.fallbacks_to_render(connection)
            for day in days:
                self._render(day, now)

        self.retried("status", settle)

    def status(self) -> None:
        """delivery_status and its daily lookup: events settled, then messages without a final status after
        hours looked up at their provider, and what they found settled too."""
        self.settle()
        for provider in self.s.providers:
            lookup = partial(
                look_up_unconfirmed, self.s.ledger, self.s.policy, provider, self.clock(), after=LOOKUP_AFTER
            )
            self.books.add_lookup(self.retried("lookup", lookup).summary())
        self.settle()


def kill_delivery_process(
    channel: str,
    db_url: str,
    policy_path: str | None,
    at: datetime,
    environment: dict[str, str],
    accepted: Callable[[], int],
) -> bool:
    """``reminders deliver`` for ``channel`` as its own process, SIGKILLed once the sandbox accepted a few of
    its messages; False when it finished before that (nothing was in flight to kill)."""
    command = [sys.executable, "-m", "reminder_pipeline.cli", "deliver", "--channel", channel, "--db", db_url]
    command += ["--at", at.strftime("%Y-%m-%dT%H:%M:%S%z"), "--json"]
    if policy_path:
        command += ["--policy", policy_path]
    before = accepted()
    process = subprocess.Popen(  # noqa: S603 - our own command line
        command, env={**os.environ, **environment}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + KILL_WAIT_SECONDS
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if accepted() - before >= KILL_AFTER_ACCEPTED:
                process.send_signal(signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.005)
        return False
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def terminate_connections_later(db_url: str, delay_seconds: float) -> threading.Thread:
    """In ``delay_seconds``, every other connection to this PostgreSQL database is terminated (as a restart
    does to them), and only this database's: the server and its other databases are left alone."""

    def terminate() -> None:
        time.sleep(delay_seconds)
        engine = create_engine(db_url, poolclass=NullPool)
        try:
            with engine.begin() as connection:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
        finally:
            engine.dispose()

    thread = threading.Thread(target=terminate, name="simulation-db-restart", daemon=True)
    thread.start()
    return thread
