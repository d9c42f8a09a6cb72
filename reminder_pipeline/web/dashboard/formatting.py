"""Money, dates and rates for the dashboard in the reader's language (Babel, CLDR), from Accept-Language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

from reminder_pipeline.core.money import format_money

SUPPORTED = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES"]
DEFAULT = "en_US"


def negotiate(accept_language: str | None) -> str:
    """The best supported locale for an ``Accept-Language`` header (``en_US`` when none fits)."""
    wanted: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, quality = part.strip().partition(";q=")
        if not tag:
            continue
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            weight = 0.0
        wanted.append((weight, tag.replace("-", "_")))
    for _, tag in sorted(wanted, key=lambda pair: -pair[0]):
        if tag in SUPPORTED:
            return tag
        try:
            language = Locale.parse(tag).language
        except (UnknownLocaleError, ValueError):
            continue
        for supported in SUPPORTED:
            if supported.startswith(language + "_"):
                return supported
    return DEFAULT


@dataclass(frozen=True)
class Formatter:
    locale: str

    def money(self, minor: int | None, currency: str | None) -> str:
        if minor is None or not currency:
            return "–"
        return format_money(int(minor), currency, self.locale)

    def day(self, value: date | None) -> str:
        return "–" if value is None else format_date(value, "medium", locale=self.locale)

    def moment(self, value: datetime | None) -> str:
        return "–" if value is None else format_datetime(value, "medium", locale=self.locale)

    def percent(self, value: float | None) -> str:
        return "–" if value is None else format_percent(value, "#,##0.0%", locale=self.locale)

    def number(self, value: float | None, places: int = 1) -> str:
        if value is None:
            return "–"
        return format_decimal(round(value, places), format="#,##0." + "0" * places, locale=self.locale)

    def count(self, value: int | None) -> str:
        return "–" if value is None else format_decimal(value, locale=self.locale)
