"""The sandbox's own endpoints under ``/sandbox``: the message log, faults, clock and counters.

- ``GET /sandbox/messages`` (optional ``channel``, ``reminder_key``): a JSON array of every accepted message;
  ``DELETE /sandbox/messages``: forget them all (the journal too).
- ``GET``/``PUT /sandbox/faults`` (``{"spec": "..."}``): the fault spec in force (a new one restarts
  the dice, the messages' fates too).
- ``GET``/``PUT /sandbox/clock`` (``{"now": "<ISO 8601 with offset>" | null}``): the clock stamping messages.
- ``GET``/``DELETE /sandbox/stats``: provider requests counted per provider and outcome.
- ``GET /sandbox/health``.
- The webhooks and inbound messages: :mod:`webhooks_api`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from reminder_pipeline.providers.sandbox import webhooks_api
from reminder_pipeline.providers.sandbox.exchange import Reply, Request
from reminder_pipeline.providers.sandbox.faults import FaultSpec
from reminder_pipeline.providers.sandbox.state import SandboxState

PREFIX = "/sandbox"


def _refused(message: str, status: int = 400) -> Reply:
    return Reply.json(status, {"error": message})


def _body_field(request: Request, name: str) -> Any:
    payload = request.json()
    if not isinstance(payload, dict) or name not in payload:
        raise ValueError(f'the body must be a JSON object with "{name}"')
    return payload[name]


def messages(state: SandboxState, request: Request) -> Reply:
    if request.method == "DELETE":
        return Reply.json(200, {"deleted": state.store.reset()})
    channel, key = request.param("channel"), request.param("reminder_key")
    found = state.store.where(
        lambda r: (channel is None or r["channel"] == channel) and (key is None or r["reminder_key"] == key)
    )
    return Reply.json(200, found)


def faults(state: SandboxState, request: Request) -> Reply:
    if request.method == "PUT":
        spec = _body_field(request, "spec")
        if not isinstance(spec, str):
            raise ValueError('"spec" must be a string such as "error_rate=0.1,latency_ms=50"')
        state.injector.replace(FaultSpec.parse(spec))
        state.webhooks.restart_dice()
    return Reply.json(200, {"spec": state.injector.spec.describe()})


def clock(state: SandboxState, request: Request) -> Reply:
    if request.method == "PUT":
        now = _body_field(request, "now")
        if now is not None and not isinstance(now, str):
            raise ValueError('"now" must be an ISO 8601 time with an offset, or null')
        state.clock.set(datetime.fromisoformat(now) if now is not None else None)
    return Reply.json(200, {"now": state.clock.now().isoformat(), "simulated": state.clock.simulated})


def stats(state: SandboxState, request: Request) -> Reply:
    if request.method == "DELETE":
        state.stats.reset()
    return Reply.json(200, state.stats.snapshot())


def health(state: SandboxState, request: Request) -> Reply:
    return Reply.json(200, {"ok": True, "messages": len(state.store)})


ROUTES: dict[str, tuple[Callable[[SandboxState, Request], Reply], frozenset[str]]] = {
    f"{PREFIX}/messages": (messages, frozenset({"GET", "DELETE"})),
    f"{PREFIX}/faults": (faults, frozenset({"GET", "PUT"})),
    f"{PREFIX}/clock": (clock, frozenset({"GET", "PUT"})),
    f"{PREFIX}/stats": (stats, frozenset({"GET", "DELETE"})),
    f"{PREFIX}/health": (health, frozenset({"GET"})),
    **webhooks_api.ROUTES,
}


def handle(state: SandboxState, request: Request) -> Reply:
    route = ROUTES.get(request.path.rstrip("/"))
    if route is None:
        return _refused(f"no such endpoint; the sandbox has {', '.join(sorted(ROUTES))}", 404)
    endpoint, methods = route
    if request.method not in methods:
        return _refused(f"{request.path} takes {', '.join(sorted(methods))}", 405)
    try:
        return endpoint(state, request)
    except ValueError as error:  # a bad fault spec, a body that is not the JSON asked for, a time without offset
        return _refused(str(error))
