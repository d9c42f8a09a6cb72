"""The shape every webhook endpoint shares: refusals answered (and logged without the request's content)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from reminder_pipeline.listening.inbox import EventSource
from reminder_pipeline.web.bodies import read_capped
from reminder_pipeline.web.intake import Intake, Taken
from reminder_pipeline.web.refusal import Refusal

log = logging.getLogger("reminder_pipeline.web")

Webhook = Callable[[Request, Intake], Awaitable[Response]]


def webhook(endpoint: Webhook) -> Callable[[Request], Awaitable[Response]]:
    """``endpoint`` with the app's :class:`Intake`; a :class:`Refusal` becomes its 4xx answer."""

    async def run(request: Request) -> Response:
        intake: Intake = request.app.state.intake
        try:
            return await endpoint(request, intake)
        except Refusal as refusal:
            log.warning("refused %s %s: %s", request.method, request.url.path, refusal.reason)
            return refusal.response()
        except ClientDisconnect:
            log.info("%s %s: the client went away", request.method, request.url.path)
            return Response(status_code=400)

    run.__name__ = endpoint.__name__
    return run


async def body_of(request: Request, intake: Intake) -> bytes:
    return await read_capped(request, intake.settings.max_body_bytes)


async def take(
    intake: Intake,
    source: EventSource,
    dedupe_key: str,
    body: str,
    context: str = "",
    form: Mapping[str, str] | None = None,
) -> Taken:
    """:meth:`Intake.take`: the event stored and processed by the app's writer thread, off the event loop."""
    return await intake.take(source, dedupe_key, body, context, form)
