"""Business days per country: the policy's working week minus public holidays and quiet days."""

from __future__ import annotations

from datetime import date
from functools import cache

import holidays
import polars as pl

from reminder_pipeline.core.policy.config import WEEKDAYS, ContactRules


@cache
def _holidays(country: str, year: int) -> frozenset[date]:
    """The country's national public holidays in ``year`` (none known for a country the library lacks)."""
    try:
        return frozenset(holidays.country_holidays(country, years=year))
    except NotImplementedError:
        return frozenset()


def is_business_day(country: str | None, day: date, rules: ContactRules) -> bool:
    week, observe_holidays, quiet_days, _ = rules.for_country(country)
    if WEEKDAYS[day.weekday()] not in week or day in quiet_days:
        return False
    return not (observe_holidays and country and day in _holidays(country, day.year))


def business_days(frame: pl.DataFrame, rules: ContactRules) -> pl.Series:
    """Per row of ``frame`` (``country``, ``send_on``): may reminders reach someone there on that date?"""
    pairs = frame.select("country", "send_on").unique()
    lookup = pairs.with_columns(
        pl.Series(
            "business_day",
            [day is not None and is_business_day(country, day, rules) for country, day in pairs.iter_rows()],
            dtype=pl.Boolean,
        )
    )
    joined = frame.select("country", "send_on").join(
        lookup, on=["country", "send_on"], how="left", nulls_equal=True, maintain_order="left"
    )
    return joined["business_day"].fill_null(False)
