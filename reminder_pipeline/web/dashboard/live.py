"""Server-sent events: one ``change`` event each time the snapshot takes in new payments, replies,
delivery events or actions. A response lasts ``stream_seconds``; the browser reconnects by itself."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from reminder_pipeline.web.dashboard.auth import Session, requires

WAIT_SECONDS = 5.0


@requires()
async def stream(request: Request, session: Session) -> Response:
    dashboard = request.app.state.dashboard
    snapshot = dashboard.snapshot
    try:
        after = int(request.headers.get("last-event-id") or request.query_params.get("after") or 0)
    except ValueError:
        after = 0
    ends = time.monotonic() + dashboard.settings.stream_seconds

    async def events() -> AsyncIterator[str]:
        nonlocal after
        yield "retry: 1000\n\n"
        while time.monotonic() < ends:
            if await request.is_disconnected():
                return
            wait = min(WAIT_SECONDS, max(0.1, ends - time.monotonic()))
            changes = await run_in_threadpool(snapshot.wait_for_change, after, wait)
            if not changes:
                yield ": still here\n\n"
                continue
            after = changes[-1].version
            kinds = sorted({k for c in changes for k in c.kinds})
            customers = sorted({x for c in changes for x in c.customers})[:50]
            data = json.dumps({"version": after, "kinds": kinds, "customers": customers})
            yield f"id: {after}\nevent: change\ndata: {data}\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
