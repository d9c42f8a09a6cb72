"""What the web app needs to check who is calling, read from the environment only (no secret has a default).

An endpoint whose secret is not set answers 503 to everything and stores nothing: the provider
keeps retrying until the operator sets it, and no unchecked request is ever taken.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from reminder_pipeline.providers.settings import PUBLIC_URL_ENV, TWILIO_AUTH_TOKEN_ENV

SENDGRID_WEBHOOK_PUBLIC_KEY_ENV = "SENDGRID_WEBHOOK_PUBLIC_KEY"
PAYMENT_WEBHOOK_SECRET_ENV = "REMINDERS_PAYMENT_WEBHOOK_SECRET"  # noqa: S105 (a variable name)
STRIPE_WEBHOOK_SECRET_ENV = "REMINDERS_STRIPE_WEBHOOK_SECRET"  # noqa: S105 (a variable name)
INBOUND_PARSE_USER_ENV = "REMINDERS_INBOUND_PARSE_USER"
INBOUND_PARSE_PASSWORD_ENV = "REMINDERS_INBOUND_PARSE_PASSWORD"  # noqa: S105 (a variable name)

MAX_BODY_BYTES = 1024 * 1024
"""A larger request is answered 413 before more of it is read (SendGrid batches stay under 768 KB)."""
TOLERANCE_SECONDS = 300
"""How far a signed timestamp may be from now, either way."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WebSettings:
    twilio_auth_token: str | None = field(default=None, repr=False)
    sendgrid_public_key: str | None = field(default=None, repr=False)
    """The base64 ECDSA public key SendGrid shows for the signed event webhook."""
    payment_secret: str | None = field(default=None, repr=False)
    stripe_secret: str | None = field(default=None, repr=False)
    inbound_parse_user: str | None = field(default=None, repr=False)
    inbound_parse_password: str | None = field(default=None, repr=False)
    public_url: str | None = None
    """The URL providers call (``https://reminders.example.com``), for Twilio's signature behind a proxy."""
    max_body_bytes: int = MAX_BODY_BYTES
    tolerance_seconds: int = TOLERANCE_SECONDS
    clock: Callable[[], datetime] = utc_now

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> WebSettings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        return cls(
            twilio_auth_token=get(TWILIO_AUTH_TOKEN_ENV),
            sendgrid_public_key=get(SENDGRID_WEBHOOK_PUBLIC_KEY_ENV),
            payment_secret=get(PAYMENT_WEBHOOK_SECRET_ENV),
            stripe_secret=get(STRIPE_WEBHOOK_SECRET_ENV),
            inbound_parse_user=get(INBOUND_PARSE_USER_ENV),
            inbound_parse_password=get(INBOUND_PARSE_PASSWORD_ENV),
            public_url=get(PUBLIC_URL_ENV),
        )

    def unconfigured(self) -> list[str]:
        """The settings not set, each named by its environment variable (for a warning at startup)."""
        missing = {
            TWILIO_AUTH_TOKEN_ENV: self.twilio_auth_token,
            SENDGRID_WEBHOOK_PUBLIC_KEY_ENV: self.sendgrid_public_key,
            PAYMENT_WEBHOOK_SECRET_ENV: self.payment_secret,
            STRIPE_WEBHOOK_SECRET_ENV: self.stripe_secret,
            INBOUND_PARSE_USER_ENV: self.inbound_parse_user,
            INBOUND_PARSE_PASSWORD_ENV: self.inbound_parse_password,
        }
        return [name for name, value in missing.items() if not value]
