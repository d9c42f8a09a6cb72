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

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from reminder_pipeline.delivery.claims import claim_batch
from reminder_pipeline.delivery.follow_up import FollowUp
from reminder_pipeline.delivery.options import (
    DeliveryOptions,
    DeliveryReport,
    ProviderConfigurationError,
    worker_name,
)
from reminder_pipeline.delivery.reconcile import reconcile
from reminder_pipeline.delivery.sender import Sender
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.providers.base import Provider

__all__ = ["DeliveryOptions", "DeliveryReport", "ProviderConfigurationError", "deliver", "worker_name"]


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
    if follow_up is not None:
        follow_up.render_waiting(now())
    most = max(1, int(provider.limits.per_second * options.lease_seconds / 4))
    options = replace(options, batch_size=min(options.batch_size, most))  # a batch is sent well within its lease
    sender = Sender(ledger, provider, worker, options, now)
    while options.max_batches is None or report.batches < options.max_batches:
        lease_until = now() + timedelta(seconds=options.lease_seconds)
        claim = claim_batch(ledger, provider, now(), worker, options, lease_until)
        report.cancelled.update(claim.cancelled)
        if claim.sending.is_empty():
            if not claim.cancelled:
                break
            continue
        report.batches += 1
        sender.send(claim, report, follow_up)
        if report.configuration_error:
            raise ProviderConfigurationError(report.configuration_error)
    return report
