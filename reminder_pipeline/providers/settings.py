"""The provider settings, read from the environment only (DESIGN.md), and the sandbox's demo credentials.

Secrets never have a default. The base URLs default to the real APIs; the demo, the tests and the
simulations point them at the sandbox (:func:`sandbox_environment`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

SENDGRID_API_KEY_ENV = "SENDGRID_API_KEY"
SENDGRID_FROM_EMAIL_ENV = "SENDGRID_FROM_EMAIL"
SENDGRID_FROM_NAME_ENV = "SENDGRID_FROM_NAME"
TWILIO_ACCOUNT_SID_ENV = "TWILIO_ACCOUNT_SID"
TWILIO_AUTH_TOKEN_ENV = "TWILIO_AUTH_TOKEN"  # noqa: S105 (a variable name)
TWILIO_FROM_NUMBER_ENV = "TWILIO_FROM_NUMBER"
TWILIO_MESSAGING_SERVICE_SID_ENV = "TWILIO_MESSAGING_SERVICE_SID"
SENDGRID_BASE_URL_ENV = "REMINDERS_SENDGRID_BASE_URL"
TWILIO_BASE_URL_ENV = "REMINDERS_TWILIO_BASE_URL"
PUBLIC_URL_ENV = "REMINDERS_PUBLIC_URL"

DEFAULT_SENDGRID_BASE_URL = "https://api.sendgrid.com"
DEFAULT_TWILIO_BASE_URL = "https://api.twilio.com"
SANDBOX_PUBLIC_URL = "http://127.0.0.1:8000"
"""Where ``reminders serve`` listens by default: the StatusCallback base in the sandbox environment."""
SANDBOX_FROM_EMAIL = "reminders@example.com"
SANDBOX_FROM_NAME = "Accounts Receivable (sandbox)"
SANDBOX_FROM_NUMBER = "+15005550006"
"""Twilio's magic test sender that always works."""


@dataclass(frozen=True)
class SandboxCredentials:
    """The only credentials a sandbox accepts; any other gets the provider's own 401."""

    sendgrid_api_key: str
    twilio_account_sid: str
    twilio_auth_token: str


DEMO_CREDENTIALS = SandboxCredentials(
    sendgrid_api_key="SG.sandbox-demo-key.not-a-real-secret",
    twilio_account_sid="AC" + "5a4db0c5" * 4,
    twilio_auth_token="sandbox-demo-token-not-a-secret0",  # noqa: S106 (a fake, for the sandbox)
)
"""Obviously fake values, used by the sandbox when the environment names no credentials."""


@dataclass(frozen=True)
class SendGridSettings:
    api_key: str
    from_email: str
    from_name: str | None = None
    base_url: str = DEFAULT_SENDGRID_BASE_URL


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str
    auth_token: str
    from_number: str | None = None
    messaging_service_sid: str | None = None
    base_url: str = DEFAULT_TWILIO_BASE_URL
    status_callback_base: str | None = None


def _get(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def sendgrid_settings(environ: Mapping[str, str] | None = None) -> SendGridSettings | None:
    """SendGrid's settings from the environment, or None when the key or the sender is missing."""
    env = os.environ if environ is None else environ
    api_key, from_email = _get(env, SENDGRID_API_KEY_ENV), _get(env, SENDGRID_FROM_EMAIL_ENV)
    if api_key is None or from_email is None:
        return None
    return SendGridSettings(
        api_key=api_key,
        from_email=from_email,
        from_name=_get(env, SENDGRID_FROM_NAME_ENV),
        base_url=_get(env, SENDGRID_BASE_URL_ENV) or DEFAULT_SENDGRID_BASE_URL,
    )


def twilio_settings(environ: Mapping[str, str] | None = None) -> TwilioSettings | None:
    """Twilio's settings from the environment, or None when the account, token or a sender is missing."""
    env = os.environ if environ is None else environ
    sid, token = _get(env, TWILIO_ACCOUNT_SID_ENV), _get(env, TWILIO_AUTH_TOKEN_ENV)
    from_number, service = _get(env, TWILIO_FROM_NUMBER_ENV), _get(env, TWILIO_MESSAGING_SERVICE_SID_ENV)
    if sid is None or token is None or (from_number is None and service is None):
        return None
    return TwilioSettings(
        account_sid=sid,
        auth_token=token,
        from_number=from_number,
        messaging_service_sid=service,
        base_url=_get(env, TWILIO_BASE_URL_ENV) or DEFAULT_TWILIO_BASE_URL,
        status_callback_base=_get(env, PUBLIC_URL_ENV),
    )


def sandbox_credentials(environ: Mapping[str, str] | None = None) -> SandboxCredentials:
    """The credentials a sandbox accepts: each provider's from the environment when set, else the demo ones."""
    env = os.environ if environ is None else environ
    key = _get(env, SENDGRID_API_KEY_ENV)
    sid, token = _get(env, TWILIO_ACCOUNT_SID_ENV), _get(env, TWILIO_AUTH_TOKEN_ENV)
    if sid is None or token is None:
        sid, token = DEMO_CREDENTIALS.twilio_account_sid, DEMO_CREDENTIALS.twilio_auth_token
    return SandboxCredentials(
        sendgrid_api_key=key or DEMO_CREDENTIALS.sendgrid_api_key, twilio_account_sid=sid, twilio_auth_token=token
    )


def sandbox_environment(
    base_url: str,
    *,
    credentials: SandboxCredentials = DEMO_CREDENTIALS,
    public_url: str = SANDBOX_PUBLIC_URL,
) -> dict[str, str]:
    """The provider settings that point both SDKs at a sandbox at ``base_url``, with its credentials."""
    base = base_url.rstrip("/")
    return {
        SENDGRID_API_KEY_ENV: credentials.sendgrid_api_key,
        SENDGRID_FROM_EMAIL_ENV: SANDBOX_FROM_EMAIL,
        SENDGRID_FROM_NAME_ENV: SANDBOX_FROM_NAME,
        TWILIO_ACCOUNT_SID_ENV: credentials.twilio_account_sid,
        TWILIO_AUTH_TOKEN_ENV: credentials.twilio_auth_token,
        TWILIO_FROM_NUMBER_ENV: SANDBOX_FROM_NUMBER,
        SENDGRID_BASE_URL_ENV: base,
        TWILIO_BASE_URL_ENV: base,
        PUBLIC_URL_ENV: public_url,
    }
