"""When a reminder the provider did not take is tried again: exponential backoff with full jitter,
never sooner than the provider asked (``Retry-After``, ``X-RateLimit-Reset``)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

FIRST_DELAY_SECONDS = 30.0
LONGEST_DELAY_SECONDS = 30 * 60.0


def retry_delay(attempts: int, retry_after: float | None, rng: random.Random) -> float:
    """Seconds to wait after the ``attempts``-th failed try: a random share of ``30 s · 2^(attempts-1)``
    (capped at 30 minutes; at least half of it, so retries spread without coming back at once), and at
    least what the provider asked for."""
    ceiling = min(LONGEST_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** max(0, attempts - 1))
    delay = ceiling * (0.5 + rng.random() / 2)
    return max(delay, retry_after or 0.0)


def next_attempt(now: datetime, attempts: int, retry_after: float | None, rng: random.Random) -> datetime:
    return now + timedelta(seconds=retry_delay(attempts, retry_after, rng))
