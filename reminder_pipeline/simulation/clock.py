"""The simulated clock and what happens when in a simulated business day.

Every service runs with ``now`` set to the simulated instant; the clock then runs on in real time
from there (a delivery run takes real seconds), exactly as ``reminders deliver --at`` does, and the
provider sandbox and the web app read the same clock, so that ``accepted_at``, signatures and every
recorded time are simulated time.

A business day (UTC, the simulation's business time zone), as the schedules and sensors would run it:

- 06:00 the daily run: ingest the day's drop, features, risk scores, segments, plan, messages;
- 07:00 (every day, as its schedule runs an hour after the daily run) the statement run: the statements of
  account of the customers whose billing cycle falls on the day, a courtesy note due then folded in;
- 06:30, 07:15, 13:00, 20:00 a delivery run per provider (email and SMS together), each followed 20
  minutes later by a second one for the retries and unknown outcomes the first left (the delivery
  sensor looks every minute); between them every recipient's window is open at least once: Asia and
  Australia in the morning, Europe and India at midday, the Americas in the evening. The 07:15 run is
  the one the sensor starts after the statement run: without it a statement for Australia or Japan
  planned at 07:00 for that day's window (it ends at 08:00-10:00 UTC) would wait for 13:00 and expire;
- 07:00, 12:00, 17:00, 22:00 customers' payments arrive by webhook, and their replies;
- 23:30 delivery status: events stored but not processed, late ones settled, the daily lookup of
  messages whose final status never came.

Weekends run ingestion, payments and replies only: the daily schedule plans business days only.
"""

from __future__ import annotations

import threading
import time as monotonic
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

BUSINESS_TZ = "UTC"
FIRST_DAY = date(2026, 3, 2)
"""A Monday: simulations start on a fixed day, so that a seed gives the same calendar (holidays included)."""
RETRY_PASS_AFTER = timedelta(minutes=20)


class Step(StrEnum):
    DAILY_RUN = "daily_run"
    DELIVERY = "delivery"
    SECOND_DELIVERY = "second_delivery"
    CUSTOMERS = "customers"
    """Payments and replies arrive."""
    STATEMENTS = "statements"
    STATUS = "status"


@dataclass(frozen=True)
class Moment:
    day: date
    at: time
    step: Step

    @property
    def instant(self) -> datetime:
        return datetime.combine(self.day, self.at, tzinfo=UTC)

    @property
    def label(self) -> str:
        return f"{self.day.isoformat()} {self.at:%H:%M} {self.step.value}"


DELIVERY_TIMES = (time(6, 30), time(7, 15), time(13), time(20))
CUSTOMER_TIMES = (time(7), time(12), time(17), time(22))
DAILY_RUN_TIME = time(6)
STATEMENTS_TIME = time(7)
STATUS_TIME = time(23, 30)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5


def day_moments(day: date) -> list[Moment]:
    """The day's steps in time order (a weekend's daily run only ingests its drop; nothing is sent)."""
    moments = [Moment(day, at, Step.CUSTOMERS) for at in CUSTOMER_TIMES]
    moments.append(Moment(day, DAILY_RUN_TIME, Step.DAILY_RUN))
    moments.append(Moment(day, STATEMENTS_TIME, Step.STATEMENTS))
    if is_business_day(day):
        for at in DELIVERY_TIMES:
            moments.append(Moment(day, at, Step.DELIVERY))
            later = (datetime.combine(day, at) + RETRY_PASS_AFTER).time()
            moments.append(Moment(day, later, Step.SECOND_DELIVERY))
        moments.append(Moment(day, STATUS_TIME, Step.STATUS))
    return sorted(moments, key=lambda m: m.at)


def customer_slot_at(day: date, slot: int) -> datetime:
    """The instant of the ``slot``-th moment (0..3) of ``day`` at which customers act."""
    return datetime.combine(day, CUSTOMER_TIMES[slot], tzinfo=UTC)


def next_customer_slot(after: datetime) -> tuple[date, int]:
    """The first customers' moment strictly after ``after``: (day, slot)."""
    day = after.astimezone(UTC).date()
    for slot in range(len(CUSTOMER_TIMES)):
        if customer_slot_at(day, slot) > after:
            return day, slot
    return day + timedelta(days=1), 0


class SimClock:
    """The simulated instant: set at each step, then running on in real time. Thread-safe; listeners
    (the sandbox's clock) are set along with it."""

    def __init__(self, start: datetime) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Callable[[datetime], object]] = []
        self._anchor = start
        self._set_at = monotonic.monotonic()

    def listen(self, listener: Callable[[datetime], object]) -> None:
        self._listeners.append(listener)
        listener(self())

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("the simulated clock needs an instant with its offset")
        with self._lock:
            self._anchor = instant.astimezone(UTC)
            self._set_at = monotonic.monotonic()
        for listener in self._listeners:
            listener(instant)

    def __call__(self) -> datetime:
        with self._lock:
            return self._anchor + timedelta(seconds=monotonic.monotonic() - self._set_at)
