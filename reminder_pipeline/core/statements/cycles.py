"""Billing cycles: which customers' cycle falls on a date.

A customer's ``billing_cycle_day`` (1-31) is the day of the month their invoices are issued; in a
shorter month a cycle day past its end falls on the month's last day (31 → 30 April, 28/29
February).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def cycle_date(cycle_day: int, year: int, month: int) -> date:
    """The date ``cycle_day`` falls on in a month: the month's last day when the month is shorter."""
    return date(year, month, min(cycle_day, calendar.monthrange(year, month)[1]))


def cycle_days_on(day: date) -> list[int]:
    """The cycle days that fall on ``day``: its own, and on a month's last day every larger one."""
    last = calendar.monthrange(day.year, day.month)[1]
    return list(range(day.day, 32)) if day.day == last else [day.day]


def previous_cycle_date(cycle_day: int, day: date) -> date:
    """The cycle date in the month before ``day``'s."""
    before = day.replace(day=1) - timedelta(days=1)
    return cycle_date(cycle_day, before.year, before.month)
