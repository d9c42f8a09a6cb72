"""A modest brake on guessing passwords: failed logins are counted per username and per client address
over a sliding window; past the limit the login answers 429 without checking the password.

Kept in memory (one ``reminders serve`` process): a restart forgives, which is fine for a brake. A good
login clears that username's count, not the address's (a guesser who knows one password keeps its brake).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

MAX_KEYS = 10_000
"""Past this many tracked names and addresses the oldest are forgotten (memory stays bounded)."""


class LoginThrottle:
    def __init__(
        self,
        per_user: int,
        per_address: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = {"user": per_user, "address": per_address}
        self.window = window_seconds
        self.clock = clock
        self.failures: dict[tuple[str, str], deque[float]] = {}
        self.lock = threading.Lock()

    @staticmethod
    def _keys(username: str, address: str) -> list[tuple[str, str]]:
        return [("user", username.strip().lower()), ("address", address)]

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self.failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            self.failures.pop(key, None)
        return times

    def wait_seconds(self, username: str, address: str) -> int:
        """0 when a login may be tried now; otherwise how many seconds until it may."""
        now = self.clock()
        wait = 0.0
        with self.lock:
            for key in self._keys(username, address):
                times = self._recent(key, now)
                if len(times) >= self.limits[key[0]]:
                    wait = max(wait, times[0] + self.window - now)
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        with self.lock:
            for key in self._keys(username, address):
                self._recent(key, now)
                self.failures.setdefault(key, deque()).append(now)
            while len(self.failures) > MAX_KEYS:
                self.failures.pop(next(iter(self.failures)))

    def succeeded(self, username: str) -> None:
        with self.lock:
            self.failures.pop(("user", username.strip().lower()), None)
