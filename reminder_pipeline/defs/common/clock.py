"""When a run takes place: now, or, for demos and simulations, a set local time on each business day a
planning or rendering run covers (as if the pipeline had run that morning), or a set instant from which
a delivery or delivery status run's clock runs on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from zoneinfo import ZoneInfo

import dagster as dg

from reminder_pipeline import settings


class ClockConfig(dg.Config):
    run_at_local_time: str | None = None
    """``HH:MM``: act as if each business day were processed at this time of that day (business time
    zone), as a daily schedule would have. Empty: the real clock. Providers never see the difference:
    delivery checks send windows against the real time."""


def run_instant(config: ClockConfig, day: date) -> datetime:
    if not config.run_at_local_time:
        return datetime.now(UTC)
    local = datetime.combine(day, time.fromisoformat(config.run_at_local_time), ZoneInfo(settings.business_timezone()))
    return local.astimezone(UTC)


def moving_clock(run_at: str | None) -> Callable[[], datetime]:
    """The real clock; or, given ``run_at`` (an ISO 8601 instant with its UTC offset: demos and simulations),
    a clock that starts at that instant and runs on from it."""
    if not run_at:
        return lambda: datetime.now(UTC)
    start, began = datetime.fromisoformat(run_at), monotonic()
    if start.tzinfo is None:
        raise ValueError(f"run_at {run_at!r} needs a UTC offset, e.g. 2026-03-10T12:00:00+01:00")
    return lambda: start.astimezone(UTC) + timedelta(seconds=monotonic() - began)
