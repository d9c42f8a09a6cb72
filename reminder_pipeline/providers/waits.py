"""How long a provider asked us to wait before trying again, from its response headers."""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime


def retry_after_seconds(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds to wait from ``X-RateLimit-Reset`` (epoch seconds) or ``Retry-After`` (seconds or a date)."""
    if headers is None:
        return None
    current = time.time() if now is None else now
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - current)
        except ValueError:
            pass
    after = headers.get("Retry-After")
    if not after:
        return None
    try:
        return max(0.0, float(after))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(after).timestamp() - current)
    except (TypeError, ValueError):
        return None
