"""SendGrid's Event Webhook settings as the sandbox serves them (behind the same bearer key as mail send).

- ``GET /v3/user/webhooks/event/settings/signed``: ``{"enabled": true, "public_key": "<base64 SPKI DER>"}``,
  the key a receiver verifies the ``X-Twilio-Email-Event-Webhook-Signature`` with (always enabled here).
- ``GET``/``PATCH /v3/user/webhooks/event/settings``: the webhook's URL and which events it gets
  (``{"enabled": false}`` or an empty ``url`` turns it off). The sandbox always sends every kind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reminder_pipeline.providers.sandbox.errors import sendgrid_error
from reminder_pipeline.providers.sandbox.exchange import Reply, Request
from reminder_pipeline.providers.sandbox.state import SandboxState
from reminder_pipeline.providers.sandbox.webhooks import WebhookUrl

SETTINGS = "/v3/user/webhooks/event/settings"
SIGNED = f"{SETTINGS}/signed"
EVENT_FLAGS = (
    "bounce", "click", "deferred", "delivered", "dropped", "group_resubscribe", "group_unsubscribe", "open",
    "processed", "spam_report", "unsubscribe",
)  # fmt: skip


def _settings(state: SandboxState) -> dict[str, Any]:
    url = state.webhooks.url(WebhookUrl.SENDGRID_EVENTS)
    flags = dict.fromkeys(EVENT_FLAGS, True)
    return {"enabled": url is not None, "url": url or "", **flags, "oauth_client_id": "", "oauth_token_url": ""}


def signed(state: SandboxState, request: Request) -> Reply:
    return Reply.json(200, {"enabled": True, "public_key": state.webhooks.key.public_key})


def settings(state: SandboxState, request: Request) -> Reply:
    return Reply.json(200, _settings(state))


def change(state: SandboxState, request: Request) -> Reply:
    try:
        wanted = request.json()
    except ValueError:
        wanted = None
    if not isinstance(wanted, dict):
        return Reply.json(400, {"errors": [sendgrid_error("request body is invalid JSON")]})
    url = wanted.get("url", state.webhooks.url(WebhookUrl.SENDGRID_EVENTS))
    if wanted.get("enabled") is False or not url:
        url = None
    if url is not None and not isinstance(url, str):
        return Reply.json(400, {"errors": [sendgrid_error("url must be a string", "url")]})
    try:
        state.webhooks.set_urls({WebhookUrl.SENDGRID_EVENTS: url})
    except ValueError:
        return Reply.json(400, {"errors": [sendgrid_error("url is not a valid http(s) URL", "url")]})
    return Reply.json(200, _settings(state))


ROUTES: dict[tuple[str, str], Callable[[SandboxState, Request], Reply]] = {
    (SIGNED, "GET"): signed,
    (SETTINGS, "GET"): settings,
    (SETTINGS, "PATCH"): change,
}
