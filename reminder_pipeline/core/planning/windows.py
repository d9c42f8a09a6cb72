"""When a message may reach a customer: the policy's local hours, safe in every zone they may be in.

A customer's zone is known; when it is not, they may be in any zone of their country or of their
phone number's region (numbers move with their owners), and the window is the part of the
policy's hours that lies inside them in every candidate zone (promise 3). The rendering checks
read the same candidates (``zones_of``). Computed per distinct set of zones, with real zone rules, so
DST changes and half-hour zones come out right on every date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import polars as pl
import pytz
from phonenumbers import timezone as phone_zones

from reminder_pipeline.core.policy.config import ContactRules, SendWindow

UNKNOWN_ZONE = "Etc/Unknown"
WINDOW_SCHEMA = {
    "customer_id": pl.String(),
    "zones": pl.String(),
    "send_on": pl.Date(),
    "window_start": pl.Datetime("us", "UTC"),
    "window_end": pl.Datetime("us", "UTC"),
}


@cache
def _valid(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _country_zones(country: str | None) -> tuple[str, ...]:
    if not country:
        return ()
    return tuple(z for z in pytz.country_timezones.get(country.lower(), []) if _valid(z))


def _phone_zones(phone: str) -> tuple[str, ...]:
    """The zones of a valid number itself and of every zone of its region: a number moves with its owner.

    A number that is not valid says nothing about where its owner is.
    """
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return ()
    if not phonenumbers.is_valid_number(number):
        return ()
    own = tuple(z for z in phone_zones.time_zones_for_number(number) if z != UNKNOWN_ZONE and _valid(z))
    return own + _country_zones(phonenumbers.region_code_for_number(number))


def candidate_zones(time_zone: str | None, phone: str | None, country: str | None) -> tuple[str, ...]:
    """The zones the customer may be in: their own zone when known; otherwise every zone of their country
    and of their phone number's region, since people travel and move with their numbers.

    None when nothing is known (then no hour is safe everywhere, and nothing is sent until a zone,
    a phone number or a country is known).
    """
    if time_zone and _valid(time_zone):
        return (time_zone,)
    return tuple(sorted(set(_country_zones(country)) | set(_phone_zones(phone) if phone else ())))


def local_window(day: date, zones: tuple[str, ...], start: time, end: time) -> tuple[datetime, datetime] | None:
    """The UTC instants between which it is ``start``-``end`` on ``day`` in every zone; None if never."""
    if not zones:
        return None
    begins = [datetime.combine(day, start, tzinfo=ZoneInfo(z)).astimezone(UTC) for z in zones]
    ends = [datetime.combine(day, end, tzinfo=ZoneInfo(z)).astimezone(UTC) for z in zones]
    first, last = max(begins), min(ends)
    return (first, last) if first < last else None


@cache
def _all_zones() -> frozenset[str]:
    return frozenset(z for z in pytz.all_timezones if _valid(z))


def zones_of(customers: pl.DataFrame) -> pl.DataFrame:
    """``customer_id, zones`` (candidate zones joined by ``|``); Python only for the few without a known zone."""
    known = pl.col("time_zone").is_in(sorted(_all_zones()))
    unknown = customers.filter(~known.fill_null(False)).select("phone", "country").unique()
    guesses = unknown.with_columns(
        pl.Series(
            "guess",
            ["|".join(candidate_zones(None, p, c)) or None for p, c in unknown.iter_rows()],
            dtype=pl.String,
        )
    )
    return customers.join(guesses, on=["phone", "country"], how="left", nulls_equal=True).select(
        "customer_id",
        pl.when(known.fill_null(False)).then(pl.col("time_zone")).otherwise(pl.col("guess")).alias("zones"),
    )


def _choose(
    day: date, zones: tuple[str, ...], window: SendWindow, now: datetime, next_day_allowed: bool
) -> tuple[date, datetime | None, datetime | None]:
    """The local date and UTC bounds of the next window: the day's, or the next day's when the day's is over.

    The next day's window only while the business day itself lasts: a replanned past day never
    sends late, the later days' runs catch up instead (promise 5).
    """
    today = local_window(day, zones, window.start, window.end)
    if today is None:
        return day, None, None
    if today[1] > now or not next_day_allowed:
        return day, *today
    tomorrow = local_window(day + timedelta(days=1), zones, window.start, window.end)
    if tomorrow is None:
        return day, *today
    return day + timedelta(days=1), *tomorrow


def send_windows(
    customers: pl.DataFrame, day: date, now: datetime, day_ends: datetime, rules: ContactRules
) -> pl.DataFrame:
    """``customer_id, zones, send_on, window_start, window_end`` (UTC; null bounds when no common window exists).

    ``customers`` needs ``customer_id, time_zone, phone, country``. ``send_on`` is the local date
    the window lies in: ``day``, or the next day for those whose window on ``day`` is already over
    at ``now`` while the business day (ending at ``day_ends``) lasts.
    """
    keyed = zones_of(customers).join(customers.select("customer_id", "country"), on="customer_id", how="left")
    distinct = keyed.select("zones", "country").unique().drop_nulls("zones")
    chosen = [
        _choose(day, tuple(zones.split("|")), rules.for_country(country)[3], now, now < day_ends)
        for zones, country in distinct.iter_rows()
    ]
    table = distinct.with_columns(
        pl.Series("send_on", [c[0] for c in chosen], dtype=pl.Date()),
        pl.Series("window_start", [c[1] for c in chosen], dtype=pl.Datetime("us", "UTC")),
        pl.Series("window_end", [c[2] for c in chosen], dtype=pl.Datetime("us", "UTC")),
    )
    return (
        keyed.join(table, on=["zones", "country"], how="left", nulls_equal=True)
        .with_columns(pl.col("send_on").fill_null(day))
        .select(list(WINDOW_SCHEMA))
    )
