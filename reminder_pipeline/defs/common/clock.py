"""When a planning or rendering run takes place: now, or, for demos and simulations, a set local time
on each business day it covers, as if the pipeline had run that morning."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
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
