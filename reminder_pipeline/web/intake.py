"""What every webhook does once its request is authentic: store it durably, then process it.

The event is committed before anything is acknowledged; it is then processed in its own transaction
(:func:`reminder_pipeline.listening.inbox.process_event`). A source without a handler yet leaves the
event ``received`` for :func:`~reminder_pipeline.listening.inbox.process_pending`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from starlette.responses import JSONResponse

from reminder_pipeline.ledger.schema import inbound_events
from reminder_pipeline.ledger.store import Ledger, LedgerWriteError
from reminder_pipeline.listening.inbox import (
    INBOX_LOCK,
    EventSource,
    EventStatus,
    Handlers,
    InboundEvent,
    process_event,
    store_event,
)
from reminder_pipeline.web.refusal import Refusal
from reminder_pipeline.web.settings import WebSettings

log = logging.getLogger("reminder_pipeline.web")


@dataclass(frozen=True)
class Taken:
    """What became of an authentic request: its event (None: stored before, a no-op) and its status."""

    event_id: int | None
    status: EventStatus | None = None
    detail: str = ""
    reply: str | None = None

    @property
    def duplicate(self) -> bool:
        return self.event_id is None

    def response(self) -> JSONResponse:
        if self.duplicate:
            return JSONResponse({"status": "duplicate"})
        payload: dict[str, Any] = {"event_id": self.event_id, "status": str(self.status)}
        return JSONResponse(payload)


class Intake:
    """The ledger, the handlers and the clock the endpoints share."""

    def __init__(self, ledger: Ledger, handlers: Handlers, settings: WebSettings) -> None:
        self.ledger = ledger
        self.handlers = handlers
        self.settings = settings

    def take(self, source: EventSource, dedupe_key: str, body: str, context: str = "") -> Taken:
        """Store the event (committed), then process it; ``context`` (already masked) goes to the log line."""
        now = self.settings.clock()
        try:
            with self.ledger.begin_write(INBOX_LOCK, shared=True) as connection:
                event_id = store_event(connection, source, dedupe_key, body, now)
        except LedgerWriteError as error:
            log.error("%s event not stored: %s", source, error)
            raise Refusal(503, "the event could not be stored; retry later") from None
        shown = f" ({context})" if context else ""
        if event_id is None:
            log.info("%s event again%s: already stored, nothing done", source, shown)
            return Taken(None)
        handler = self.handlers.get(source)
        if handler is None:
            log.info("%s event %s stored%s: no handler yet, left received", source, event_id, shown)
            return Taken(event_id, EventStatus.RECEIVED)
        processed = process_event(self.ledger, InboundEvent(event_id, source, body, now), handler, now)
        log.info("%s event %s%s: %s %s", source, event_id, shown, processed.status, processed.detail)
        return Taken(event_id, processed.status, processed.detail, processed.reply)

    def healthy(self) -> bool:
        try:
            with self.ledger.begin() as connection:
                connection.execute(select(inbound_events.c.event_id).limit(1)).all()
        except Exception as error:
            log.warning("health check: the ledger does not answer (%s)", type(error).__name__)
            return False
        return True
