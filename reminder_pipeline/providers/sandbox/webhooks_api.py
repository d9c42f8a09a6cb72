"""The sandbox's own endpoints for its webhooks and for messages from customers.

- ``GET /sandbox/webhooks``: ``{"urls", "public_key", "pending", "counts"}`` (URLs shown without
  credentials; counts per kind and :class:`WebhookOutcome`); ``DELETE``: the counts back to 0.
- ``PUT /sandbox/webhooks``: any of ``sendgrid_events_url``, ``twilio_inbound_url``,
  ``sendgrid_inbound_url`` (a URL, or null for none); the others stay.
- ``POST /sandbox/webhooks/wait`` (``{"timeout": seconds}``): returns once nothing is waiting to be
  sent (``"idle": true``) or when the time is up (``"idle": false``).
- ``POST /sandbox/inbound/sms`` (``{"from", "to", "body"}``) and ``POST /sandbox/inbound/email``
  (``{"from", "to", "subject", "text", "html"?, "headers"?}``): post them as the provider would and
  answer what the receiver answered (``status`` null when it could not be reached).
"""

from __future__ import annotations

from collections.abc import Callable

from reminder_pipeline.providers.sandbox.exchange import Reply, Request
from reminder_pipeline.providers.sandbox.inbound import inject_email, inject_sms
from reminder_pipeline.providers.sandbox.state import SandboxState
from reminder_pipeline.providers.sandbox.webhooks import WebhookUrl

PREFIX = "/sandbox"
MAX_WAIT_SECONDS = 300.0


def webhooks(state: SandboxState, request: Request) -> Reply:
    if request.method == "DELETE":
        state.webhooks.reset_counts()
    if request.method == "PUT":
        payload = request.json()
        names = {u.value: u for u in WebhookUrl}
        if not isinstance(payload, dict) or not payload or set(payload) - set(names):
            raise ValueError(f"the body must be a JSON object with any of {', '.join(names)}")
        if not all(v is None or isinstance(v, str) for v in payload.values()):
            raise ValueError("each URL must be a string, or null for none")
        state.webhooks.set_urls({names[name]: url or None for name, url in payload.items()})
    return Reply.json(200, state.webhooks.snapshot())


def wait(state: SandboxState, request: Request) -> Reply:
    payload = request.json() if request.body else {}
    timeout = payload.get("timeout", 10.0) if isinstance(payload, dict) else None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 <= timeout <= MAX_WAIT_SECONDS:
        raise ValueError(f'"timeout" must be a number of seconds from 0 to {MAX_WAIT_SECONDS:g}')
    idle = state.webhooks.wait_until_idle(float(timeout))
    return Reply.json(200, {"idle": idle, **state.webhooks.snapshot()})


def inbound_sms(state: SandboxState, request: Request) -> Reply:
    return Reply.json(200, inject_sms(state, request.json()))


def inbound_email(state: SandboxState, request: Request) -> Reply:
    return Reply.json(200, inject_email(state, request.json()))


ROUTES: dict[str, tuple[Callable[[SandboxState, Request], Reply], frozenset[str]]] = {
    f"{PREFIX}/webhooks": (webhooks, frozenset({"GET", "PUT", "DELETE"})),
    f"{PREFIX}/webhooks/wait": (wait, frozenset({"POST"})),
    f"{PREFIX}/inbound/sms": (inbound_sms, frozenset({"POST"})),
    f"{PREFIX}/inbound/email": (inbound_email, frozenset({"POST"})),
}
