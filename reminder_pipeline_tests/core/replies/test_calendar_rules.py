"""The defined dates behind vague promises, on the days where they could go wrong."""

from __future__ import annotations

from datetime import date

import pytest

from reminder_pipeline.core.replies import calendar_rules as rules

TUESDAY = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("today", "this_friday", "next_week_friday", "this_sunday"),
    [
        (TUESDAY, date(2026, 3, 13), date(2026, 3, 20), date(2026, 3, 15)),
        (date(2026, 3, 13), date(2026, 3, 13), date(2026, 3, 20), date(2026, 3, 15)),  # a Friday
        (date(2026, 3, 14), date(2026, 3, 14), date(2026, 3, 20), date(2026, 3, 15)),  # a Saturday
        (date(2026, 3, 15), date(2026, 3, 15), date(2026, 3, 20), date(2026, 3, 15)),  # a Sunday
        (date(2026, 3, 16), date(2026, 3, 20), date(2026, 3, 27), date(2026, 3, 22)),  # a Monday
        (date(2026, 12, 30), date(2027, 1, 1), date(2027, 1, 8), date(2027, 1, 3)),
    ],
)
def test_weeks(today: date, this_friday: date, next_week_friday: date, this_sunday: date) -> None:
    assert rules.this_friday(today) == this_friday
    assert rules.next_week_friday(today) == next_week_friday
    assert rules.this_sunday(today) == this_sunday


@pytest.mark.parametrize(
    ("today", "end", "end_of_next", "early_next"),
    [
        (TUESDAY, date(2026, 3, 31), date(2026, 4, 30), date(2026, 4, 5)),
        (date(2026, 1, 31), date(2026, 1, 31), date(2026, 2, 28), date(2026, 2, 5)),
        (date(2027, 12, 15), date(2027, 12, 31), date(2028, 1, 31), date(2028, 1, 5)),
        (date(2028, 1, 20), date(2028, 1, 31), date(2028, 2, 29), date(2028, 2, 5)),
    ],
)
def test_months(today: date, end: date, end_of_next: date, early_next: date) -> None:
    assert rules.end_of_month(today) == end
    assert rules.end_of_next_month(today) == end_of_next
    assert rules.early_next_month(today) == early_next


def test_a_day_of_the_month_is_the_next_one_on_or_after_today() -> None:
    assert rules.next_day_of_month(TUESDAY, 10) == TUESDAY
    assert rules.next_day_of_month(TUESDAY, 9) == date(2026, 4, 9)
    assert rules.next_day_of_month(date(2026, 4, 10), 31) == date(2026, 5, 31)
    assert rules.next_day_of_month(date(2026, 1, 31), 30) == date(2026, 3, 30)
    assert rules.mid_month(date(2026, 3, 16)) == date(2026, 4, 15)


def test_a_named_month_is_the_next_one_to_come() -> None:
    assert rules.in_named_month(TUESDAY, 3, None) == date(2026, 3, 31)
    assert rules.in_named_month(TUESDAY, 3, 5) == date(2027, 3, 5)
    assert rules.in_named_month(TUESDAY, 2, 29) == date(2028, 2, 29)


def test_after_a_span() -> None:
    assert rules.after(TUESDAY, 2, rules.Unit.WEEK) == date(2026, 3, 24)
    assert rules.after(date(2026, 1, 31), 1, rules.Unit.MONTH) == date(2026, 2, 28)
    assert rules.after(TUESDAY, 3, rules.Unit.DAY) == date(2026, 3, 13)
