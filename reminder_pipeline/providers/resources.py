"""SendGrid and Twilio as Dagster resources: secrets through ``dg.EnvVar``, nothing secret in run config."""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from reminder_pipeline.providers import settings
from reminder_pipeline.providers.base import ProviderLimits
from reminder_pipeline.providers.sendgrid import SendGridProvider
from reminder_pipeline.providers.twilio import TwilioProvider

DEFAULT_LIMITS = ProviderLimits()
SENDGRID_ACTIVITY_LAG_SECONDS = 600.0
"""How long the real Email Activity feed may take to show a send: a "not found" sooner proves nothing."""


class SendGridResource(dg.ConfigurableResource):
    """SendGrid's Mail Send API (or the sandbox at ``base_url``) for one sender identity."""

    api_key: str
    from_email: str
    from_name: str | None = None
    base_url: str = settings.DEFAULT_SENDGRID_BASE_URL
    concurrency: int = DEFAULT_LIMITS.concurrency
    per_second: float = DEFAULT_LIMITS.per_second
    timeout_seconds: float = DEFAULT_LIMITS.timeout_seconds
    lookup_delay_seconds: float | None = None
    """None: :data:`SENDGRID_ACTIVITY_LAG_SECONDS` against the real API, 0 against any other (the sandbox)."""

    def limits(self) -> ProviderLimits:
        delay = self.lookup_delay_seconds
        if delay is None:
            real = self.base_url.rstrip("/") == settings.DEFAULT_SENDGRID_BASE_URL
            delay = SENDGRID_ACTIVITY_LAG_SECONDS if real else 0.0
        return ProviderLimits(self.concurrency, self.per_second, self.timeout_seconds, delay)

    def provider(self) -> SendGridProvider:
        return SendGridProvider(self.api_key, self.from_email, self.from_name, self.base_url, self.limits())


class TwilioResource(dg.ConfigurableResource):
    """Twilio's Messages API (or the sandbox at ``base_url``) for one account and sender."""

    account_sid: str
    auth_token: str
    from_number: str | None = None
    messaging_service_sid: str | None = None
    base_url: str = settings.DEFAULT_TWILIO_BASE_URL
    status_callback_base: str | None = None
    """The public URL of ``reminders serve`` (``REMINDERS_PUBLIC_URL``): required to send."""
    concurrency: int = DEFAULT_LIMITS.concurrency
    per_second: float = DEFAULT_LIMITS.per_second
    timeout_seconds: float = DEFAULT_LIMITS.timeout_seconds
    lookup_delay_seconds: float = DEFAULT_LIMITS.lookup_delay_seconds

    def limits(self) -> ProviderLimits:
        return ProviderLimits(self.concurrency, self.per_second, self.timeout_seconds, self.lookup_delay_seconds)

    def provider(self) -> TwilioProvider:
        return TwilioProvider(
            self.account_sid,
            self.auth_token,
            from_number=self.from_number,
            messaging_service_sid=self.messaging_service_sid,
            base_url=self.base_url,
            status_callback_base=self.status_callback_base,
            limits=self.limits(),
        )


def _set_in_environment(**fields: str) -> dict[str, Any]:
    """``dg.EnvVar(name)`` for each field whose variable is set now; the others keep their defaults."""
    return {field: dg.EnvVar(name) for field, name in fields.items() if os.environ.get(name, "").strip()}


def sendgrid_resource_from_environment() -> SendGridResource:
    """The resource on the provider settings of DESIGN.md; resolved when a run starts, so definitions
    load (``dagster definitions validate``) without any of them set."""
    return SendGridResource(
        api_key=dg.EnvVar(settings.SENDGRID_API_KEY_ENV),
        from_email=dg.EnvVar(settings.SENDGRID_FROM_EMAIL_ENV),
        **_set_in_environment(from_name=settings.SENDGRID_FROM_NAME_ENV, base_url=settings.SENDGRID_BASE_URL_ENV),
    )


def twilio_resource_from_environment() -> TwilioResource:
    """Like :func:`sendgrid_resource_from_environment`; the sender and the public URL only when set."""
    return TwilioResource(
        account_sid=dg.EnvVar(settings.TWILIO_ACCOUNT_SID_ENV),
        auth_token=dg.EnvVar(settings.TWILIO_AUTH_TOKEN_ENV),
        **_set_in_environment(
            from_number=settings.TWILIO_FROM_NUMBER_ENV,
            messaging_service_sid=settings.TWILIO_MESSAGING_SERVICE_SID_ENV,
            base_url=settings.TWILIO_BASE_URL_ENV,
            status_callback_base=settings.PUBLIC_URL_ENV,
        ),
    )
