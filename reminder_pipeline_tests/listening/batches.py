"""What the tests of events processed together share: a handler leaving an effect of its own (and breaking
when told to), and the status of every stored event by its key."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import Connection, select, text

from reminder_pipeline.ledger.schema import inbound_events
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.inbox import EventSource, EventStatus, HandlerOutcome, InboundEvent, store_event


def event_statuses(ledger: Ledger) -> dict[str, str]:
    """Every stored event's status by its ``dedupe_key`` (the effects' events included)."""
    with ledger.begin() as connection:
        rows = connection.execute(select(inbound_events.c.dedupe_key, inbound_events.c.status)).all()
    return {str(key): str(status) for key, status in rows}


class Effects:
    """A handler that leaves an event of its own as its effect, and breaks on the bodies it is told to."""

    def __init__(self, breaks: str = "", database_error: str = "") -> None:
        self.breaks = breaks
        self.database_error = database_error
        self.calls: Counter[int] = Counter()

    def __call__(self, connection: Connection, event: InboundEvent, now: datetime) -> HandlerOutcome:
        self.calls[event.event_id] += 1
        store_event(connection, EventSource.BROKER, f"effect-of-{event.body}", event.body, now)
        if event.body == self.breaks:
            raise RuntimeError(f"{event.body} broke it")
        if event.body == self.database_error:
            connection.execute(text("SELECT * FROM no_such_table"))
        return HandlerOutcome(EventStatus.PROCESSED, "done")
