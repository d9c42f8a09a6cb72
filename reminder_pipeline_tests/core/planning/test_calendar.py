"""Business days: the policy's working week, the country's public holidays, quiet days and overrides."""

from __future__ import annotations

from datetime import date

import polars as pl

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.planning.calendar import business_days, is_business_day

RULES = load_policy().contact


def test_weekends_are_quiet() -> None:
    assert is_business_day("DE", date(2026, 3, 10), RULES)
    assert not is_business_day("DE", date(2026, 3, 14), RULES)
    assert not is_business_day("DE", date(2026, 3, 15), RULES)


def test_each_countrys_own_public_holidays() -> None:
    independence_day_observed = date(2026, 7, 3)  # 4 July 2026 is a Saturday
    assert not is_business_day("US", independence_day_observed, RULES)
    assert is_business_day("DE", independence_day_observed, RULES)
    assert not is_business_day("DE", date(2026, 12, 25), RULES), "Christmas, a Friday"
    assert not is_business_day("FR", date(2026, 5, 1), RULES), "Fête du Travail, a Friday"
    assert is_business_day("US", date(2026, 5, 1), RULES)


def test_holidays_can_be_ignored_and_a_country_can_have_its_own_week_and_quiet_days() -> None:
    rules = type(RULES).model_validate(
        {
            **RULES.model_dump(),
            "observe_public_holidays": False,
            "countries": {"AE": {"business_days": ["mon", "tue", "wed", "thu", "fri", "sat"]}},
            "quiet_days": [date(2026, 12, 24)],
        }
    )
    assert is_business_day("FR", date(2026, 5, 1), rules)
    assert is_business_day("AE", date(2026, 3, 14), rules), "a Saturday is a working day there"
    assert not is_business_day("DE", date(2026, 3, 14), rules)
    assert not is_business_day("DE", date(2026, 12, 24), rules)


def test_an_unknown_country_keeps_the_working_week_and_a_missing_date_is_no_business_day() -> None:
    assert is_business_day(None, date(2026, 3, 10), RULES)
    assert is_business_day("ZZ", date(2026, 3, 10), RULES)
    frame = pl.DataFrame(
        {"country": ["DE", "DE", None, "FR"], "send_on": [date(2026, 3, 10), date(2026, 3, 14), None, date(2026, 5, 1)]}
    )
    assert business_days(frame, RULES).to_list() == [True, False, False, False]
