"""The defined dates behind vague promises ("next week", "fin du mois", "Ende nächster Woche").

A promise of a period is taken at the period's end, the last day it would still be kept, so a
ladder paused until then plus grace never presses a customer who is on time:

- this week / end of the week: this week's Friday (today from Saturday on);
- next week / end of next week: next week's Friday (weeks start on Monday);
- the weekend: this week's Sunday;
- end of the month: its last day; next month: the last day of next month;
- early in a month ("beginning of next month", "début avril"): its 5th;
- mid-month ("mediados de mes", "Mitte März"): its 15th;
- in N days / weeks / months: today plus that (a month is the same day next month, or its last day).

Every rule answers a date on or after today: a month named without a year is the next one to come.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from enum import StrEnum

FRIDAY = 4
SUNDAY = 6
EARLY_DAY = 5
MIDDLE_DAY = 15


class Unit(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(today: date, months: int) -> date:
    year, month = divmod(today.month - 1 + months, 12)
    year, month = today.year + year, month + 1
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def this_friday(today: date) -> date:
    return max(today, today + timedelta(days=FRIDAY - today.weekday()))


def next_week_friday(today: date) -> date:
    return today + timedelta(days=7 + FRIDAY - today.weekday())


def this_sunday(today: date) -> date:
    return today + timedelta(days=SUNDAY - today.weekday())


def end_of_month(today: date) -> date:
    return last_day(today.year, today.month)


def end_of_next_month(today: date) -> date:
    following = add_months(today.replace(day=1), 1)
    return last_day(following.year, following.month)


def early_next_month(today: date) -> date:
    return add_months(today.replace(day=1), 1).replace(day=EARLY_DAY)


def next_day_of_month(today: date, day: int) -> date | None:
    """The next ``day`` of a month on or after today (a month without that day is skipped)."""
    for months in range(0, 3):
        month_start = add_months(today.replace(day=1), months)
        if day <= calendar.monthrange(month_start.year, month_start.month)[1]:
            candidate = month_start.replace(day=day)
            if candidate >= today:
                return candidate
    return None


def mid_month(today: date) -> date | None:
    return next_day_of_month(today, MIDDLE_DAY)


def in_named_month(today: date, month: int, day: int | None) -> date:
    """Day ``day`` (None: the last) of the next ``month`` whose that day is on or after today."""
    for year in range(today.year, today.year + 9):  # 29 February comes back within eight years
        try:
            candidate = last_day(year, month) if day is None else date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise ValueError(f"no day {day} in month {month}")


def after(today: date, count: int, unit: Unit) -> date:
    if unit is Unit.MONTH:
        return add_months(today, count)
    return today + timedelta(days=count * (7 if unit is Unit.WEEK else 1))
