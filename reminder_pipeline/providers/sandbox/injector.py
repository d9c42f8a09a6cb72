"""The sandbox's dice: which request is slowed, dropped, limited or failed, under the current :class:`FaultSpec`.

Latency and drops apply to every provider request (lookups too); rate limits, errors and timeouts
to sends only, so that a reconciliation can always see what the sandbox holds. Draws come from
one random generator (seeded when the spec has a seed), each only for a fault that is on.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from enum import StrEnum

from reminder_pipeline.providers.sandbox.faults import FaultSpec


class ProviderName(StrEnum):
    TWILIO = "twilio"
    SENDGRID = "sendgrid"


@dataclass(frozen=True)
class RateLimited:
    """A send over the rate limit: the window's size and when (epoch seconds) it opens again."""

    limit: int
    reset_at: float


@dataclass
class _Window:
    started: float
    count: int = 0


class FaultInjector:
    """Thread-safe; :meth:`replace` swaps the spec (and restarts the dice and the windows) at run time."""

    def __init__(self, spec: FaultSpec) -> None:
        self._lock = threading.Lock()
        self.replace(spec)

    def replace(self, spec: FaultSpec) -> None:
        with self._lock:
            self._spec = spec
            self._random = random.Random(spec.seed)  # noqa: S311 (fault dice, not secrets)
            self._windows: dict[ProviderName, _Window] = {}

    @property
    def spec(self) -> FaultSpec:
        return self._spec

    def _hit(self, rate: float) -> bool:
        return rate > 0.0 and self._random.random() < rate

    def delay_seconds(self) -> float:
        with self._lock:
            spec = self._spec
            jitter = self._random.uniform(0.0, spec.jitter_ms) if spec.jitter_ms > 0 else 0.0
        return (spec.latency_ms + jitter) / 1000.0

    def drops(self) -> bool:
        with self._lock:
            return self._hit(self._spec.drop_rate)

    def rate_limited(self, provider: ProviderName) -> RateLimited | None:
        """Counts a send against the provider's window (which starts at its first send); None when within it."""
        with self._lock:
            limit = self._spec.rate_limit
            if limit is None:
                return None
            now = time.time()
            window = self._windows.get(provider)
            if window is None or now >= window.started + limit.period_seconds:
                window = self._windows[provider] = _Window(started=now)
            if window.count >= limit.count:
                return RateLimited(limit.count, window.started + limit.period_seconds)
            window.count += 1
            return None

    def server_error(self) -> bool:
        with self._lock:
            return self._hit(self._spec.error_rate)

    def injected_error(self, provider: ProviderName) -> int | None:
        """A Twilio code or a SendGrid status to answer instead of handling the send, if one is drawn."""
        with self._lock:
            errors = self._spec.sms_errors if provider is ProviderName.TWILIO else self._spec.email_errors
            return next((code for code, rate in errors if self._hit(rate)), None)

    def hold_seconds(self) -> float:
        """How long to hold an accepted send's answer: 0, or ``hold_ms`` when a timeout is drawn."""
        with self._lock:
            return self._spec.hold_ms / 1000.0 if self._hit(self._spec.timeout_rate) else 0.0
