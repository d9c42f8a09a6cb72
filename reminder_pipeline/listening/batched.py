"""A handler that can also take many inbound events at once: set-based processing of a batch.

:func:`~reminder_pipeline.listening.inbox.process_events` hands a run of consecutive events whose
handlers share a ``group`` to that group's ``many`` in one call (a few statements for them all); a
lone event, or any event again alone after a batch failed, goes to ``one``. ``many`` must leave the
ledger, and say of each event, what ``one`` on each in turn would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from reminder_pipeline.listening.inbox import Handler, HandlerOutcome, InboundEvent

ManyHandler = Callable[[Connection, Sequence[InboundEvent], datetime], list[HandlerOutcome]]


@dataclass(frozen=True)
class BatchedHandler:
    one: Handler
    many: ManyHandler
    group: str
    """Events of handlers with the same group (and so the same ``many``) are taken together."""

    def __call__(self, connection: Connection, event: InboundEvent, now: datetime) -> HandlerOutcome:
        return self.one(connection, event, now)
