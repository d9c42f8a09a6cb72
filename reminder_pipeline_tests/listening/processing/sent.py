"""A day's reminders really sent: planned, rendered and delivered through the sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reminder_pipeline.delivery.service import deliver
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.providers.sendgrid import SendGridProvider
from reminder_pipeline.providers.twilio import TwilioProvider
from reminder_pipeline_tests.delivery.conftest import Clock
from reminder_pipeline_tests.delivery.crowd import Person, written_day
from reminder_pipeline_tests.delivery.helpers import rows


@dataclass(frozen=True)
class Sent:
    customer_id: str
    channel: str
    reminder_key: str
    provider_id: str


def sent_day(
    ledger: Ledger,
    folder: Path,
    crowd: list[Person],
    email: SendGridProvider,
    sms: TwilioProvider,
    clock: Clock,
) -> dict[str, Sent]:
    """``crowd``'s reminders sent; each by ``C00001/email``, with its key and the provider's id."""
    written_day(ledger, folder, crowd)
    deliver(ledger, email, clock)
    deliver(ledger, sms, clock)
    found = {
        name: Sent(row["customer_id"], row["channel"], row["dedupe_key"], row["provider_id"])
        for name, row in rows(ledger).items()
    }
    assert all(s.provider_id for s in found.values()), "every reminder was accepted by the sandbox"
    return found
