"""Providers pointed at a running sandbox, and messages to send through them."""

from __future__ import annotations

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.providers.base import OutgoingMessage, ProviderLimits
from reminder_pipeline.providers.sandbox import RunningSandbox
from reminder_pipeline.providers.sendgrid import SendGridProvider
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS, SANDBOX_FROM_NUMBER
from reminder_pipeline.providers.twilio import TwilioProvider

CALLBACK_BASE = "http://127.0.0.1:8000"
SENDER = "reminders@example.com"
MOBILE = "+14155550100"


def _url(sandbox: RunningSandbox | str) -> str:
    return sandbox if isinstance(sandbox, str) else sandbox.url


def sendgrid_at(sandbox: RunningSandbox | str, *, api_key: str | None = None, timeout: float = 5.0) -> SendGridProvider:
    return SendGridProvider(
        api_key or DEMO_CREDENTIALS.sendgrid_api_key,
        SENDER,
        "Accounts Receivable",
        base_url=_url(sandbox),
        limits=ProviderLimits(timeout_seconds=timeout),
    )


def twilio_at(
    sandbox: RunningSandbox | str,
    *,
    auth_token: str | None = None,
    from_number: str | None = SANDBOX_FROM_NUMBER,
    messaging_service_sid: str | None = None,
    timeout: float = 5.0,
    callback_base: str = CALLBACK_BASE,
) -> TwilioProvider:
    return TwilioProvider(
        DEMO_CREDENTIALS.twilio_account_sid,
        auth_token or DEMO_CREDENTIALS.twilio_auth_token,
        from_number=from_number,
        messaging_service_sid=messaging_service_sid,
        base_url=_url(sandbox),
        status_callback_base=callback_base,
        limits=ProviderLimits(timeout_seconds=timeout),
    )


def email(key: str = "rk-email-1", to: str = "jane.doe@example.org", **fields: object) -> OutgoingMessage:
    values: dict[str, object] = {
        "subject": "Invoice INV-1 is due",
        "body_text": "Your invoice INV-1 is due on 1 March.",
        "body_html": "<p>Your invoice <b>INV-1</b> is due on 1 March.</p>",
        "unsubscribe_url": "https://pay.example.com/unsubscribe?token=abc",
        "categories": ("courtesy", "step-1"),
        **fields,
    }
    return OutgoingMessage(reminder_key=key, channel=Channel.EMAIL, to=to, **values)  # type: ignore[arg-type]


def sms(key: str = "rk-sms-1", to: str = MOBILE, body: str = "Invoice INV-1 is due on 1 March.") -> OutgoingMessage:
    return OutgoingMessage(reminder_key=key, channel=Channel.SMS, to=to, body_text=body)
