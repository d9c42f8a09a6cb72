"""``reminders deliver``: send what is due now through the providers in the environment's settings."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from reminder_pipeline.cli.base import INPUT_FILE, UserMistake, emit, examples, main, open_ledger
from reminder_pipeline.cli.progress import bars
from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.core.channels import CHANNEL_NAMES
from reminder_pipeline.providers.base import Provider, ProviderLimits
from reminder_pipeline.settings import LINK_SECRET_ENV


def provider_from_environment(channel: Channel, limits: ProviderLimits, as_json: bool = False) -> Provider:
    """The channel's provider on the settings of DESIGN.md (``SENDGRID_*``, ``TWILIO_*``, base URLs)."""
    from reminder_pipeline.providers import settings
    from reminder_pipeline.providers.resources import SENDGRID_ACTIVITY_LAG_SECONDS
    from reminder_pipeline.providers.sendgrid import SendGridProvider
    from reminder_pipeline.providers.twilio import TwilioProvider

    if channel is Channel.EMAIL:
        email = settings.sendgrid_settings()
        if email is None:
            raise UserMistake(
                f"SendGrid is not set up: set {settings.SENDGRID_API_KEY_ENV} and "
                f"{settings.SENDGRID_FROM_EMAIL_ENV} (see the README, 'Real providers')"
            )
        if email.base_url.rstrip("/") == settings.DEFAULT_SENDGRID_BASE_URL:  # its activity search lags behind
            limits = replace(
                limits, lookup_delay_seconds=max(limits.lookup_delay_seconds, SENDGRID_ACTIVITY_LAG_SECONDS)
            )
        return SendGridProvider(email.api_key, email.from_email, email.from_name, email.base_url, limits)
    sms = settings.twilio_settings()
    if sms is None:
        raise UserMistake(
            f"Twilio is not set up: set {settings.TWILIO_ACCOUNT_SID_ENV}, {settings.TWILIO_AUTH_TOKEN_ENV} "
            f"and {settings.TWILIO_FROM_NUMBER_ENV} or {settings.TWILIO_MESSAGING_SERVICE_SID_ENV}"
        )
    return TwilioProvider(
        sms.account_sid,
        sms.auth_token,
        from_number=sms.from_number,
        messaging_service_sid=sms.messaging_service_sid,
        base_url=sms.base_url,
        status_callback_base=sms.status_callback_base,
        limits=limits,
    )


@main.command(
    epilog=examples(
        "# what is due now, both channels, with the provider settings of the environment",
        "reminders deliver --json",
        "# email only, as if it were 09:00 in Berlin (demos and tests)",
        "reminders deliver --channel email --at 2026-03-10T09:00:00+01:00",
    )
)
@click.option("--channel", type=click.Choice([*CHANNEL_NAMES, "all"]), default="all", show_default=True)
@click.option("--db", "db_url", help="Ledger database URL (default: $REMINDERS_DB_URL or the embedded SQLite file).")
@click.option(
    "--at",
    "at",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]),
    help="Deliver as if it were this instant (with its UTC offset); default: now.",
)
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--max-batches", type=click.IntRange(min=1), help="Stop after this many batches per channel.")
@click.option("--concurrency", default=16, show_default=True, type=click.IntRange(1, 512), help="Requests in flight.")
@click.option(
    "--per-second", default=100.0, show_default=True, type=click.FloatRange(min=0.1), help="Requests a second."
)
@click.option("--policy", "policy_path", type=INPUT_FILE, help="Policy file (default: the shipped one).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def deliver(
    channel: str,
    db_url: str | None,
    at: datetime | None,
    batch_size: int,
    max_batches: int | None,
    concurrency: int,
    per_second: float,
    policy_path: Path | None,
    as_json: bool,
) -> None:
    """Send the due reminders (window open now, last look passed) by email and SMS, at most once each.

    Safe to run again at any time and from several machines at once: a row is only ever sent by the
    run that claimed it, and an unknown outcome is reconciled with the provider, never resent."""
    from reminder_pipeline.config_files import load_policy, load_templates
    from reminder_pipeline.core.rendering.links import LinkSigner
    from reminder_pipeline.delivery.follow_up import FollowUp
    from reminder_pipeline.delivery.service import DeliveryOptions, ProviderConfigurationError
    from reminder_pipeline.delivery.service import deliver as deliver_channel
    from reminder_pipeline.reminders.service import render_day

    with open_ledger(db_url, upgrade=True) as ledger:
        secret = os.environ.get(LINK_SECRET_ENV, "")
        if not secret:
            raise UserMistake(f"set {LINK_SECRET_ENV}: a fallback message's links are signed with it", as_json=as_json)
        policy, templates = load_policy(policy_path), load_templates(None)
        channels = list(Channel) if channel == "all" else [Channel(channel)]
        limits = ProviderLimits(concurrency=concurrency, per_second=per_second)
        providers = [provider_from_environment(c, limits, as_json) for c in channels]
        start, began = (at.astimezone(UTC) if at else None), datetime.now(UTC)

        def now() -> datetime:
            return datetime.now(UTC) if start is None else start + (datetime.now(UTC) - began)

        options = DeliveryOptions(
            batch_size,
            max_batches,
            promise_grace_days=policy.contact.promise_grace_days,
            sender_name=policy.sender.name,
        )
        signer = LinkSigner(secret)
        follow_up = FollowUp(
            ledger, policy, lambda day, moment: render_day(ledger, policy, templates, signer, day, moment)
        )
        results: dict[str, Any] = {}
        track = bars()
        for provider in providers:
            try:
                with track(f"sending the due {provider.channel.value} reminders through {provider.name}"):
                    report = deliver_channel(ledger, provider, now, options, follow_up=follow_up)
            except ProviderConfigurationError as error:
                raise UserMistake(str(error), as_json=as_json) from error
            results[provider.channel.value] = report.summary()
    lines = [
        f"{c}: {r['sent']} sent, {r['retried']} to retry, {r['unknown']} unknown, {r['failed']} failed, "
        f"{r['fallbacks']} fell back, {r['collector_tasks']} to a collector"
        for c, r in results.items()
    ]
    emit(results, as_json, "\n".join(lines))
