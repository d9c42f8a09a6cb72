"""Send windows when the time zone is not given: safe in every zone of the country and of the number's region."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import polars as pl
import pytz

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.planning.windows import candidate_zones, send_windows, zones_of
from reminder_pipeline_tests.core.planning.scenarios import a_customer, an_invoice, decide, only

DAY = date(2026, 3, 10)  # a Tuesday; the United States are on summer time since 8 March, Europe not yet
RUN_AT = datetime.combine(DAY, time(5), tzinfo=UTC)
DAY_ENDS = datetime.combine(DAY, time(23, 59), tzinfo=UTC)
NEW_JERSEY = "+12015550123"
UK_MOBILE = "+447400123456"


def _windows(time_zone: str | None, phone: str | None, country: str | None) -> dict[str, object]:
    customers = pl.DataFrame(
        [{"customer_id": "C1", "time_zone": time_zone, "phone": phone, "country": country}],
        schema={"customer_id": pl.String, "time_zone": pl.String, "phone": pl.String, "country": pl.String},
    )
    return send_windows(customers, DAY, RUN_AT, DAY_ENDS, load_policy().contact).row(0, named=True)


def _local_hours(window: dict[str, object], zone: str) -> tuple[time, time]:
    start, end = window["window_start"], window["window_end"]
    assert isinstance(start, datetime)
    assert isinstance(end, datetime)
    return start.astimezone(ZoneInfo(zone)).time(), end.astimezone(ZoneInfo(zone)).time()


def _country(code: str) -> set[str]:
    return set(pytz.country_timezones[code])


def test_a_new_jersey_number_of_a_us_customer_without_a_zone_may_be_anywhere_in_the_us() -> None:
    zones = set(candidate_zones(None, NEW_JERSEY, "US"))
    assert zones >= _country("us"), "the number's region is the US: Adak and Honolulu included"
    window = _windows(None, NEW_JERSEY, "US")
    for zone in ("America/New_York", "America/Adak", "Pacific/Honolulu"):
        start, end = _local_hours(window, zone)
        assert time(9) <= start < end <= time(19), zone
    # Honolulu (UTC-10) wakes last and New York (UTC-4) sleeps first: 19:00-23:00 UTC, 14:00-18:00 in Adak
    assert _local_hours(window, "Pacific/Honolulu")[0] == time(9)
    assert _local_hours(window, "America/New_York")[1] == time(19)
    assert _local_hours(window, "America/Adak") == (time(10), time(14))


def test_a_number_whose_region_differs_from_the_country_adds_its_zones() -> None:
    zones = set(candidate_zones(None, UK_MOBILE, "ES"))
    assert zones >= _country("es") | {"Europe/London"}
    window = _windows(None, UK_MOBILE, "ES")
    # 09:00 in London and the Canaries (UTC) is 10:00 in Madrid; 19:00 in Madrid is 18:00 in London
    assert _local_hours(window, "Europe/London") == (time(9), time(18))
    assert _local_hours(window, "Europe/Madrid") == (time(10), time(19))


def test_without_a_country_the_number_alone_gives_its_region() -> None:
    assert set(candidate_zones(None, NEW_JERSEY, None)) >= _country("us")


def test_a_known_zone_is_trusted() -> None:
    assert candidate_zones("Europe/Berlin", NEW_JERSEY, "US") == ("Europe/Berlin",)
    start, end = _local_hours(_windows("Europe/Berlin", NEW_JERSEY, "US"), "Europe/Berlin")
    assert (start, end) == (time(9), time(19))


def test_an_invalid_zone_or_number_says_nothing_about_where_the_customer_is() -> None:
    assert set(candidate_zones("Mars/Olympus_Mons", "+1 555", "DE")) == _country("de")
    assert candidate_zones(None, "not a number", None) == ()


def test_a_country_too_wide_for_any_common_hour_has_no_window() -> None:
    # Kaliningrad (UTC+2) to Kamchatka (UTC+12): 09:00 in the west is 19:00 in the east
    assert _windows(None, None, "RU")["window_start"] is None
    row = only(decide([an_invoice("I1", 3)], [a_customer(country="RU", time_zone=None, phone=None)]))
    assert (row["decision"], row["reason"]) == ("skip", "no_send_window")


def test_the_checks_read_the_same_candidate_zones() -> None:
    """``zones_of`` (the rendering checks' source) gives exactly the planner's candidates."""
    customers = pl.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "time_zone": [None, None, "Asia/Tokyo", None],
            "phone": [NEW_JERSEY, UK_MOBILE, NEW_JERSEY, None],
            "country": ["US", "ES", "US", "RU"],
        }
    )
    found = dict(zones_of(customers).iter_rows())
    for customer_id, zone, phone, country in customers.iter_rows():
        assert found[customer_id] == "|".join(candidate_zones(zone, phone, country))
