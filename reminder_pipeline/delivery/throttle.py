"""A provider's pace: at most ``per_second`` requests started a second, and a pause for everyone when
the provider says to wait (a 429 with ``Retry-After`` or ``X-RateLimit-Reset``)."""

from __future__ import annotations

import threading
import time


class Throttle:
    """Thread-safe spacing of request starts (one every ``1 / per_second`` seconds, small bursts allowed)."""

    def __init__(self, per_second: float, burst: int = 1) -> None:
        if per_second <= 0:
            raise ValueError(f"per_second must be positive, not {per_second}")
        self._interval = 1.0 / per_second
        self._burst = max(1, burst)
        self._lock = threading.Lock()
        self._next = time.monotonic()
        self._paused_until = 0.0

    def acquire(self) -> None:
        """Wait for this request's turn."""
        with self._lock:
            now = time.monotonic()
            start = max(self._next, now - self._interval * (self._burst - 1), self._paused_until)
            self._next = start + self._interval
        delay = start - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def pause(self, seconds: float) -> None:
        """No request starts for ``seconds`` (the provider asked us to wait)."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
