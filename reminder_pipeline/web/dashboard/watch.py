"""The sessions of a server process's open live streams, looked up again in the ledger together.

A live stream is authorised once, when it opens; after that its session may end anywhere — a logout, a
new password or role, a disabled user, in this process, another worker or the command line — or
expire. Every stream asks :meth:`StreamSessions.is_open` each time it wakes (every
``session_check_seconds``), and the answer comes from one query for all the process's streams, made at
most twice per that interval: a stream ends within about one and a half intervals of its session,
for a few primary-key lookups a second whatever the number of streams.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from reminder_pipeline.collections.sessions import open_among
from reminder_pipeline.ledger.store import Ledger, describe_database_error

log = logging.getLogger("reminder_pipeline.web.dashboard")


class StreamSessions:
    def __init__(self, ledger: Ledger, clock: Callable[[], datetime], check_seconds: float) -> None:
        self.ledger = ledger
        self.clock = clock
        self.max_age = check_seconds / 2
        self._lock = threading.Lock()
        self._streams: Counter[str] = Counter()
        self._open: set[str] = set()
        self._checked_at = -math.inf
        self._failed = False

    def watch(self, digest: str) -> None:
        """A stream of the session ``digest`` opens (its session was found open just now)."""
        with self._lock:
            self._streams[digest] += 1
            self._open.add(digest)

    def unwatch(self, digest: str) -> None:
        with self._lock:
            self._streams[digest] -= 1
            if self._streams[digest] <= 0:
                del self._streams[digest]
                self._open.discard(digest)

    def is_open(self, digest: str) -> bool | None:
        """Whether the session ``digest`` is still open, as the ledger said at most ``max_age`` seconds ago;
        None when the ledger could not be asked (the stream then ends, and the browser's reconnection is
        checked like any request)."""
        with self._lock:
            if time.monotonic() - self._checked_at >= self.max_age:
                self._refresh()
            return None if self._failed else digest in self._open

    def _refresh(self) -> None:
        try:
            with self.ledger.begin() as connection:
                self._open = open_among(connection, list(self._streams), self.clock())
            self._failed = False
        except SQLAlchemyError as error:
            problem = describe_database_error(error)
            log.warning("the live streams' sessions could not be looked up (%s); the streams end", problem)
            self._failed = True
        self._checked_at = time.monotonic()
