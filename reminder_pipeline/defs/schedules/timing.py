"""When the scheduled runs happen, in the operator's business time zone (``REMINDERS_BUSINESS_TZ``).

The daily run's time is the operator's choice (``REMINDERS_DAILY_RUN_AT``, ``HH:MM``, default
06:00): early enough that messages are written before the first send windows open, late enough
that the billing system's night export has landed. Statements follow an hour later, once the day's
invoices are in the ledger.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from reminder_pipeline import settings

DAILY_RUN_AT_ENV = "REMINDERS_DAILY_RUN_AT"
DEFAULT_DAILY_RUN_AT = time(6, 0)
STATEMENTS_AFTER = timedelta(hours=1)
PRIORITY_TAG = "dagster/priority"
"""The queued run coordinator starts higher priorities first: a daily run waiting behind backfill runs
goes ahead of them."""
DAILY_PRIORITY = "10"


def daily_run_at() -> time:
    """``$REMINDERS_DAILY_RUN_AT`` (``HH:MM`` business time) or 06:00; anything else is refused at load time."""
    value = (os.environ.get(DAILY_RUN_AT_ENV) or "").strip()
    if not value:
        return DEFAULT_DAILY_RUN_AT
    try:
        parsed = time.fromisoformat(value)
    except ValueError as error:
        raise ValueError(f"{DAILY_RUN_AT_ENV}={value!r} is not a time of day: write HH:MM, e.g. 06:00") from error
    if parsed.second or parsed.microsecond or parsed.tzinfo:
        raise ValueError(f"{DAILY_RUN_AT_ENV}={value!r}: write whole minutes without a zone, e.g. 06:30")
    return parsed


def statements_at() -> time:
    moment = datetime.combine(date(2000, 1, 1), daily_run_at()) + STATEMENTS_AFTER
    return moment.time()


def daily_cron(at: time) -> str:
    return f"{at.minute} {at.hour} * * *"


def business_date(scheduled: datetime | None) -> date:
    """The business date a tick stands for: its scheduled time's date in the business time zone (now when
    evaluated by hand without one)."""
    zone = ZoneInfo(settings.business_timezone())
    moment = scheduled if scheduled is not None else datetime.now(zone)
    return moment.astimezone(zone).date()
