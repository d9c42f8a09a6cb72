"""A warning when a provider goes quiet: messages handed to it long ago, and no event about any since."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import dagster as dg

from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.ledger.operations import provider_silence

SILENCE_HOURS_ENV = "REMINDERS_PROVIDER_SILENCE_HOURS"
DEFAULT_SILENCE_HOURS = 2.0


def silence_allowed() -> timedelta:
    return timedelta(hours=float(os.environ.get(SILENCE_HOURS_ENV) or DEFAULT_SILENCE_HOURS))


def quiet_provider(last_sent: datetime | None, last_event: datetime | None, now: datetime, allowed: timedelta) -> bool:
    """Whether the provider owes us news: it got a message more than ``allowed`` ago and said nothing after."""
    if last_sent is None or now - last_sent < allowed:
        return False
    return last_event is None or last_event < last_sent


def _check(provider: str, asset: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(asset),
        name=f"{provider}_events_fresh",
        blocking=False,
        description=f"{provider} told us something (a delivery status, a bounce) about the messages it got more "
        f"than {SILENCE_HOURS_ENV} hours ago (default {DEFAULT_SILENCE_HOURS:g}); silence means its webhooks no "
        "longer reach us and delivery status goes stale. What to do: check that `reminders serve` is up at "
        "REMINDERS_PUBLIC_URL and that the provider's webhook settings point there; the daily status lookup "
        "fills the gap meanwhile.",
    )
    def events_fresh(ledger: LedgerResource) -> dg.AssetCheckResult:
        with ledger.open().begin() as connection:
            last_sent, last_event = provider_silence(connection, provider)
        now, allowed = datetime.now(UTC), silence_allowed()
        quiet = quiet_provider(last_sent, last_event, now, allowed)
        return dg.AssetCheckResult(
            passed=not quiet,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{provider} sent no status event since a message {allowed} ago: are its webhooks reaching "
            "`reminders serve`?"
            if quiet
            else None,
            metadata={
                "last_sent": str(last_sent),
                "last_event": str(last_event),
                "allowed_hours": allowed / timedelta(hours=1),
            },
        )

    return events_fresh


provider_events_fresh = [_check("sendgrid", "email_deliveries"), _check("twilio", "sms_deliveries")]
