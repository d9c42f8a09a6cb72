"""Server-sent events: one ``change`` event each time the snapshot takes in new payments, replies,
delivery events or actions. A response lasts ``stream_seconds``; the browser reconnects by itself.

A stream ends, with an ``ended`` event, within about ``session_check_seconds`` of its session ending
anywhere (a logout, a new password or role, a disabled user, expiry): each time it wakes it asks
:class:`~reminder_pipeline.web.dashboard.watch.StreamSessions`, which looks all of them up at once."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from reminder_pipeline.dashboard.snapshot import Change
from reminder_pipeline.web.dashboard.auth import Session, requires

KEEP_ALIVE_SECONDS = 5.0
"""A comment line at least this often when nothing changes, so that proxies keep the connection."""
ENDED = "event: ended\ndata: {}\n\n"


def _change_event(changes: list[Change]) -> str:
    version = changes[-1].version
    kinds = sorted({k for c in changes for k in c.kinds})
    customers = sorted({x for c in changes for x in c.customers})[:50]
    data = json.dumps({"version": version, "kinds": kinds, "customers": customers})
    return f"id: {version}\nevent: change\ndata: {data}\n\n"


@requires()
async def stream(request: Request, session: Session) -> Response:
    dashboard = request.app.state.dashboard
    snapshot, streams, settings = dashboard.snapshot, dashboard.streams, dashboard.settings
    try:
        after = int(request.headers.get("last-event-id") or request.query_params.get("after") or 0)
    except ValueError:
        after = 0
    ends = time.monotonic() + settings.stream_seconds

    def wake(after: int, wait: float) -> tuple[list[Change], bool | None]:
        changes = snapshot.wait_for_change(after, wait)
        return changes, streams.is_open(session.digest)

    async def events() -> AsyncIterator[str]:
        nonlocal after
        streams.watch(session.digest)
        try:
            yield "retry: 1000\n\n"
            written = time.monotonic()
            while time.monotonic() < ends:
                if await request.is_disconnected():
                    return
                wait = min(settings.session_check_seconds, max(0.1, ends - time.monotonic()))
                changes, still_open = await run_in_threadpool(wake, after, wait)
                if not still_open:
                    if still_open is False:
                        yield ENDED
                    return
                if changes:
                    after = changes[-1].version
                    yield _change_event(changes)
                    written = time.monotonic()
                elif time.monotonic() - written >= KEEP_ALIVE_SECONDS:
                    yield ": still here\n\n"
                    written = time.monotonic()
        finally:
            streams.unwatch(session.digest)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
