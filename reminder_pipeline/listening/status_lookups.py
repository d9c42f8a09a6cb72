"""The daily reconciliation: ask the provider about messages whose final status never arrived.

A status callback or event can be lost (the provider gave up retrying while we were down, a batch
dropped on the way). A row still ``sent`` some hours after its send is looked up with the provider's
own message search (:meth:`Provider.lookup`); a final status found there is recorded as an event of
its own (``delivery_events``, kept once like any other) and settles the row exactly as the callback
would have, fallback and all.

Limits:

- Twilio: the search lists the recipient's messages since the send (at most 20 pages of 50) and
  gives the status but no error code, so an ``undelivered`` found this way marks the number refused
  whatever the reason was. Twilio keeps messages searchable for 400 days.
- SendGrid: the Email Activity API needs its paid add-on (without it the answer is "cannot tell"),
  lags behind sends, keeps 30 days, and says only ``delivered`` / ``not_delivered``: a message not
  delivered fails its row (with its fallback) but marks no contact, as the reason is unknown.
- a message the provider says it does not have, or cannot tell about, is counted and asked about
  again the next day; nothing is ever resent from here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.core.outbox import OUTBOX_LOCK
from reminder_pipeline.core.policy.config import Policy
from reminder_pipeline.ledger import listening as queries
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.delivery_events import (
    EPOCH,
    SENDGRID,
    TWILIO,
    ProviderEvent,
    apply_events,
    meaning_of,
)
from reminder_pipeline.providers.base import OutgoingMessage, Provider

DEFAULT_AFTER = timedelta(hours=6)
"""How long after its send a message without a final status is looked up (callbacks come within minutes)."""
ACTIVITY_STATUS = {"delivered": "delivered", "not_delivered": "not_delivered"}
"""SendGrid's Email Activity statuses that are final, as the events' names."""


@dataclass
class LookupReport:
    provider: str
    asked: int = 0
    settled: Counter[str] = field(default_factory=Counter)
    """Final statuses found (and recorded), by the provider's word."""
    still_open: int = 0
    """Found, but not final yet (the provider still tries)."""
    missing: int = 0
    """The provider says it has no such message."""
    cannot_tell: int = 0

    def summary(self) -> dict[str, object]:
        return {
            "provider": self.provider,
            "asked": self.asked,
            "settled": dict(self.settled),
            "still_open": self.still_open,
            "missing": self.missing,
            "cannot_tell": self.cannot_tell,
        }


def _event(provider: str, row: dict[str, object], provider_id: str, status: str, now: datetime) -> ProviderEvent:
    event_id = f"{provider_id}:{status}:" if provider == TWILIO else f"lookup:{provider_id}:{status}"
    return ProviderEvent(
        provider=provider,
        provider_event_id=event_id[:200],
        event=status,
        provider_id=provider_id,
        reminder_key=str(row["dedupe_key"]),
        error_code=None,
        detail=f"{provider}: {status} (found by the daily lookup)",
        occurred_at=now,
    )


def _final_name(provider: str, status: str | None) -> str | None:
    name = (status or "").lower()
    if provider == SENDGRID:
        return ACTIVITY_STATUS.get(name)
    probe = ProviderEvent(provider, "", name, None, None, None, "", EPOCH)
    return name if meaning_of(probe).final is not None else None


def look_up_unconfirmed(
    ledger: Ledger,
    policy: Policy,
    provider: Provider,
    now: datetime,
    *,
    after: timedelta = DEFAULT_AFTER,
    limit: int = 1000,
) -> LookupReport:
    """Look up ``provider``'s rows still ``sent`` ``after`` their send, and settle those found final."""
    report = LookupReport(provider.name)
    with ledger.begin() as connection:
        waiting = queries.sent_without_final_status(connection, provider.name, now - after, limit).to_dicts()
    events: list[ProviderEvent] = []
    for row in waiting:
        message = OutgoingMessage(
            reminder_key=str(row["dedupe_key"]),
            channel=Channel(str(row["channel"])),
            to=str(row["recipient"]),
            body_text=str(row["body_text"]),
            subject=row["subject"] if isinstance(row["subject"], str) else None,
        )
        sent_at = row["sent_at"] if isinstance(row["sent_at"], datetime) else now - after
        found = provider.lookup(message, sent_at)
        report.asked += 1
        if found.found is None:
            report.cannot_tell += 1
        elif not found.found:
            report.missing += 1
        elif (name := _final_name(provider.name, found.provider_status)) is None:
            report.still_open += 1
        else:
            provider_id = found.provider_id or str(row["provider_id"])
            events.append(_event(provider.name, row, provider_id, name, now))
            report.settled[name] += 1
    if events:
        with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
            apply_events(connection, policy, events, now)
    return report
