"""Send the due outbox of one channel through its provider, at most once per reminder (promise 1).

One delivery run, for one provider:

1. **Reconcile**: rows left ``sending`` by a worker whose lease ran out become ``unknown``; each
   ``unknown`` row is looked up at the provider — found: ``sent``; certainly not received: ``retry``;
   still unclear: asked again later, and ``unresolved`` (an operator's task) once its window closed.
2. **Claim** a batch of due rows (window open now, next try due) with a lease, take the last look in
   the same transaction (paid, disputed, promised, opted out, address changed, already contacted
   today, window closed: cancelled or expired) and record ``sending`` before any provider call.
3. **Send** the batch concurrently within the provider's limits (requests in flight, a pace, a pause
   when it answers 429), and record each outcome as it comes: ``sent`` with the provider's id,
   ``retry`` with backoff (429, 5xx, refused connection), ``failed`` (refused for good: the contact is
   marked, and the step falls back to another channel or a collector), ``unknown`` (timeout, dropped
   connection: reconciled, never resent blindly).

A provider refusing our own credentials or sender stops the run: its rows go back to ``retry`` and
:class:`ProviderConfigurationError` says what to fix. See ``core.outbox`` for the state machine.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.core.delivery.backoff import next_attempt
from reminder_pipeline.core.outbox import OUTBOX_LOCK, OutboxStatus
from reminder_pipeline.delivery.claims import Claim, claim_batch
from reminder_pipeline.delivery.follow_up import FollowUp
from reminder_pipeline.delivery.outcomes import Outcome, outcome_changes, refusals
from reminder_pipeline.delivery.reconcile import reconcile
from reminder_pipeline.delivery.throttle import Throttle
from reminder_pipeline.ledger import delivery as queries
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.providers.base import OutgoingMessage, Provider, SendOutcome, SendResult, is_configuration_error

S = OutboxStatus
FLUSH_EVERY = 200
"""Outcomes recorded per transaction: a crash loses at most this many answers (they are reconciled)."""


class ProviderConfigurationError(RuntimeError):
    """The provider refused our credentials or sender: nothing more can be sent until an operator fixes it."""


def worker_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class DeliveryOptions:
    batch_size: int = 500
    max_batches: int | None = None
    """None: until nothing is due."""
    lease_seconds: float = 300.0
    """How long a claimed row stays ``sending`` before another run treats its outcome as unknown."""
    promise_grace_days: int = 3
    sender_name: str | None = None
    seed: int | None = None


@dataclass
class DeliveryReport:
    provider: str
    channel: str
    sent: int = 0
    retried: int = 0
    unknown: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    """Failed for good, per provider code."""
    cancelled: Counter[str] = field(default_factory=Counter)
    """Not sent at the last look, per reason."""
    reconciled: Counter[str] = field(default_factory=Counter)
    """Unknown outcomes settled: sent, retry, unresolved, still unknown."""
    fallbacks: int = 0
    collector_tasks: int = 0
    batches: int = 0
    configuration_error: str | None = None
    sent_ids: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {
            "provider": self.provider,
            "channel": self.channel,
            "sent": self.sent,
            "retried": self.retried,
            "unknown": self.unknown,
            "failed": sum(self.failed.values()),
            "failed_by_code": dict(self.failed),
            "cancelled_at_last_look": dict(self.cancelled),
            "reconciled": dict(self.reconciled),
            "fallbacks": self.fallbacks,
            "collector_tasks": self.collector_tasks,
            "batches": self.batches,
        }


def _message(row: dict[str, object], sender_name: str | None) -> OutgoingMessage:
    return OutgoingMessage(
        reminder_key=str(row["dedupe_key"]),
        channel=Channel(str(row["channel"])),
        to=str(row["recipient"]),
        body_text=str(row["body_text"]),
        subject=row["subject"] if isinstance(row["subject"], str) else None,
        body_html=row["body_html"] if isinstance(row["body_html"], str) else None,
        unsubscribe_url=row["unsubscribe_url"] if isinstance(row["unsubscribe_url"], str) else None,
        categories=tuple(str(row[c]) for c in ("ladder", "step", "tone") if row.get(c)),
        from_name=sender_name,
    )


class _Sender:
    """Sends one claimed batch concurrently and records outcomes in small transactions as they come."""

    def __init__(
        self, ledger: Ledger, provider: Provider, worker: str, options: DeliveryOptions, clock: Callable[[], datetime]
    ) -> None:
        self.ledger, self.provider, self.worker, self.options, self.clock = ledger, provider, worker, options, clock
        self.throttle = Throttle(provider.limits.per_second, burst=max(1, int(provider.limits.per_second // 10)))
        self.stopped = threading.Event()
        self.rng = random.Random(options.seed)  # noqa: S311 - jitter, not secrecy

    def _send(self, message: OutgoingMessage) -> Outcome:
        started = self.clock()
        if self.stopped.is_set():
            return Outcome(message, None, started, started)
        self.throttle.acquire()
        result: SendResult = self.provider.send(message)
        if result.outcome is SendOutcome.RETRY and result.retry_after:
            self.throttle.pause(result.retry_after)
        if is_configuration_error(result):
            self.stopped.set()
        return Outcome(message, result, started, self.clock())

    def send(
        self, claim: Claim, now: Callable[[], datetime], report: DeliveryReport, follow_up: FollowUp | None
    ) -> None:
        rows = {int(r["outbox_id"]): r for r in claim.sending.iter_rows(named=True)}
        pending: list[tuple[int, Outcome]] = []
        with ThreadPoolExecutor(max_workers=self.provider.limits.concurrency) as pool:
            futures: dict[Future[Outcome], int] = {
                pool.submit(self._send, _message(row, self.options.sender_name)): outbox_id
                for outbox_id, row in rows.items()
            }
            remaining = set(futures)
            while remaining:
                done, remaining = wait(remaining, timeout=0.5, return_when=FIRST_COMPLETED)
                pending += [(futures[f], f.result()) for f in done]
                if len(pending) >= FLUSH_EVERY or (pending and not remaining):
                    self._record(pending, rows, now(), report, follow_up)
                    pending = []

    def _record(
        self,
        outcomes: list[tuple[int, Outcome]],
        rows: dict[int, dict[str, object]],
        now: datetime,
        report: DeliveryReport,
        follow_up: FollowUp | None,
    ) -> None:
        changes, attempts = outcome_changes(
            outcomes, rows, now, worker=self.worker, provider=self.provider, retry_at=self._retry_at
        )
        refused = refusals(outcomes, rows)
        with self.ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
            queries.move(connection, changes, allowed_from=[S.SENDING], worker=self.worker)
            queries.record_attempts(connection, attempts)
            queries.mark_refused(connection, refused, now)
        for status, code in changes.select("status", "last_error").iter_rows():
            if status == S.SENT:
                report.sent += 1
            elif status == S.RETRY:
                report.retried += 1
            elif status == S.UNKNOWN:
                report.unknown += 1
            elif status == S.FAILED:
                report.failed[str(code).split(":", 1)[0]] += 1
        report.sent_ids += changes.filter(pl.col("status") == S.SENT)["outbox_id"].to_list()
        failed_ids = changes.filter(pl.col("status") == S.FAILED)["outbox_id"]
        if follow_up is not None and failed_ids.len():
            made = follow_up.after_failures(failed_ids, now)
            report.fallbacks += made.fallbacks
            report.collector_tasks += made.collector_tasks
        configuration = [o.result for _, o in outcomes if o.result is not None and is_configuration_error(o.result)]
        if configuration and report.configuration_error is None:
            first = configuration[0]
            report.configuration_error = (
                f"{self.provider.name} refused our own account or sender "
                f"(HTTP {first.http_status}, code {first.error_code}): {first.detail}"
            )

    def _retry_at(self, attempts: int, retry_after: float | None, now: datetime) -> datetime:
        return next_attempt(now, attempts, retry_after, self.rng)


def deliver(
    ledger: Ledger,
    provider: Provider,
    now: Callable[[], datetime],
    options: DeliveryOptions | None = None,
    *,
    follow_up: FollowUp | None = None,
    worker: str | None = None,
) -> DeliveryReport:
    """Reconcile, then claim and send batches of ``provider``'s channel until nothing is due (or
    ``max_batches``). ``now`` is the delivery clock: windows are checked against it."""
    options = options or DeliveryOptions()
    worker = worker or worker_name()
    report = DeliveryReport(provider.name, provider.channel.value)
    report.reconciled.update(reconcile(ledger, provider, now(), batch_size=options.batch_size))
    sender = _Sender(ledger, provider, worker, options, now)
    while options.max_batches is None or report.batches < options.max_batches:
        lease_until = now() + timedelta(seconds=options.lease_seconds)
        claim = claim_batch(ledger, provider, now(), worker, options, lease_until)
        report.cancelled.update(claim.cancelled)
        if claim.sending.is_empty():
            if not claim.cancelled:
                break
            continue
        report.batches += 1
        sender.send(claim, now, report, follow_up)
        if report.configuration_error:
            raise ProviderConfigurationError(report.configuration_error)
    return report
