"""Sending one claimed batch: concurrently, within the provider's limits, never past what the ledger allows.

As many sends are in flight as the provider allows. Before the next rows go, when the last look is
older than :data:`LOOK_AGAIN_AFTER`, they are looked at again (a payment, a dispute or an opt-out may
have landed since the claim) and those that may no longer go are cancelled before any call; the
lease is renewed when it runs short, so no other run takes a row that is still being sent. Each
single send checks its window at the moment it starts. Outcomes are recorded as
they come, at most :data:`FLUSH_EVERY` per transaction.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from datetime import datetime, timedelta

import polars as pl

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.core.delivery.backoff import next_attempt
from reminder_pipeline.core.outbox import OUTBOX_LOCK, OutboxStatus
from reminder_pipeline.delivery.claims import Claim, look_again
from reminder_pipeline.delivery.follow_up import FollowUp
from reminder_pipeline.delivery.options import DeliveryOptions, DeliveryReport
from reminder_pipeline.delivery.outcomes import STOPPED_BY_WINDOW, Outcome, outcome_changes, refusals
from reminder_pipeline.delivery.throttle import Throttle
from reminder_pipeline.ledger import delivery as queries
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.providers.base import OutgoingMessage, Provider, SendOutcome, is_configuration_error

S = OutboxStatus
FLUSH_EVERY = 200
"""Outcomes recorded per transaction: a crash loses at most this many answers (they are reconciled)."""
LOOK_AGAIN_AFTER = 0.5
"""Seconds (real time: how long news has had to land) after which the next rows are looked at again."""
RENEW_WHEN_LEFT = 0.5
"""Renew the lease when less than this share of it is left."""


def outgoing(row: dict[str, object], sender_name: str | None) -> OutgoingMessage:
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


class Sender:
    """Sends claimed batches of one provider for one worker."""

    def __init__(
        self, ledger: Ledger, provider: Provider, worker: str, options: DeliveryOptions, clock: Callable[[], datetime]
    ) -> None:
        self.ledger, self.provider, self.worker, self.options, self.clock = ledger, provider, worker, options, clock
        self.throttle = Throttle(provider.limits.per_second, burst=max(1, int(provider.limits.per_second // 10)))
        self.stopped = threading.Event()
        self.rng = random.Random(options.seed)  # noqa: S311 - jitter, not secrecy

    def _send(self, message: OutgoingMessage, window_end: datetime) -> Outcome:
        started = self.clock()
        if self.stopped.is_set():
            return Outcome(message, None, started, started)
        self.throttle.acquire()
        if self.clock() >= window_end:
            return Outcome(message, None, started, started, stopped=STOPPED_BY_WINDOW)
        result = self.provider.send(message)
        if result.outcome is SendOutcome.RETRY and result.retry_after:
            self.throttle.pause(result.retry_after)
        if is_configuration_error(result):
            self.stopped.set()
        return Outcome(message, result, started, self.clock())

    def send(self, claim: Claim, report: DeliveryReport, follow_up: FollowUp | None) -> None:
        """Keep the provider's concurrency busy; look again at the next rows before they go when the last
        look is older than :data:`LOOK_AGAIN_AFTER`; renew the lease when it runs short."""
        rows = {int(r["outbox_id"]): r for r in claim.sending.iter_rows(named=True)}
        order = list(rows)
        lease_until = claim.lease_until or self.clock()
        looked_at, cleared = time.monotonic(), len(order)  # the claim looked at every row just now
        ahead = max(1, 2 * self.provider.limits.concurrency)
        stopped: set[int] = set()
        in_flight: dict[Future[Outcome], int] = {}
        done: list[tuple[int, Outcome]] = []
        with ThreadPoolExecutor(max_workers=self.provider.limits.concurrency) as pool:
            for index, outbox_id in enumerate(order):
                while len(in_flight) >= self.provider.limits.concurrency:
                    finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                    done += [(in_flight.pop(f), f.result()) for f in finished]
                now = self.clock()
                if index >= cleared or time.monotonic() - looked_at >= LOOK_AGAIN_AFTER:
                    stopped |= self._look_again(claim.sending, order[index : index + ahead], order, report)
                    looked_at, cleared = time.monotonic(), index + ahead
                if lease_until - now < timedelta(seconds=self.options.lease_seconds * RENEW_WHEN_LEFT):
                    lease_until = now + timedelta(seconds=self.options.lease_seconds)
                    with self.ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
                        queries.renew_lease(connection, order[index:], self.worker, lease_until)
                if outbox_id in stopped:
                    continue
                row = rows[outbox_id]
                window_end = row["window_end"]
                assert isinstance(window_end, datetime)
                future = pool.submit(self._send, outgoing(row, self.options.sender_name), window_end)
                in_flight[future] = outbox_id
                if len(done) >= FLUSH_EVERY:
                    self._record(done, rows, report, follow_up)
                    done = []
            for future in as_completed(in_flight):
                done.append((in_flight[future], future.result()))
        if done:
            self._record(done, rows, report, follow_up)

    def _look_again(
        self, claimed: pl.DataFrame, next_ids: list[int], everyone: list[int], report: DeliveryReport
    ) -> set[int]:
        """Of the rows about to go, those the last look now stops (cancelled or expired in the ledger)."""
        rows = claimed.filter(pl.col("outbox_id").is_in(next_ids))
        stopped = look_again(
            self.ledger,
            rows,
            self.clock(),
            self.worker,
            self.options.promise_grace_days,
            besides=pl.Series(everyone, dtype=pl.Int64),
        )
        report.cancelled.update(stopped["status_reason"].to_list())
        return set(stopped["outbox_id"].to_list())

    def _record(
        self,
        outcomes: list[tuple[int, Outcome]],
        rows: dict[int, dict[str, object]],
        report: DeliveryReport,
        follow_up: FollowUp | None,
    ) -> None:
        now = self.clock()
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
            elif status == S.EXPIRED:
                report.cancelled[str(code)] += 1
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
