"""The sandbox's clock: real time, or a simulated instant that runs on from when it was set."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Stamps ``accepted_at`` and the providers' dates; a simulation sets it to its own clock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._anchor: datetime | None = None
        self._set_at = 0.0

    def now(self) -> datetime:
        with self._lock:
            if self._anchor is None:
                return datetime.now(UTC)
            return self._anchor + timedelta(seconds=time.monotonic() - self._set_at)

    def set(self, now: datetime | None) -> None:
        """From now on the clock reads ``now`` plus the real time since; None goes back to real time."""
        if now is not None and now.tzinfo is None:
            raise ValueError("the sandbox clock needs a time with an offset, e.g. 2024-03-01T09:00:00+00:00")
        with self._lock:
            self._anchor = now.astimezone(UTC) if now is not None else None
            self._set_at = time.monotonic()

    @property
    def simulated(self) -> bool:
        return self._anchor is not None
