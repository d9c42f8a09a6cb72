"""The dates a reply names that are still to come: what a promise to pay is pinned to.

Read in this order, each step blanking what it read so the next does not read it again:

1. past phrases ("last Friday", "hace un mes", "il y a deux semaines", "vor einer Woche"): nothing;
2. the language's period and relative phrases (:mod:`calendar_rules`: "next week", "fin du mois",
   "Ende nächster Woche", "in two weeks", "pasado mañana");
3. a day with a month name ("April 3rd", "el 3 de abril", "1er avril", "am 3. Januar") and weekday
   names ("Friday", "el lunes", "vendredi prochain", "nächsten Dienstag": the next one after today):
   by ``dateparser`` with the language, ``RELATIVE_BASE`` today and ``PREFER_DATES_FROM='future'``;
4. numeric dates ("15/12", "20.03.", "3/25", "25.03.2026"): day first for es/fr/de, month first for
   en (``day_first`` overrides); a reading whose month is impossible is read the other way round
   ("15/12" in English is 15 December); after "at", "um", "a las", "vers" ... it is a time (5.30).
   Read here rather than by dateparser, which takes "5/30" in day-first order for 5 March 2030 and
   "12/1/26" for 2126;
5. a day of the month alone ("the 15th", "el 20", "le 15", "am 30."): the next such day.

Only dates on or after today are kept; a month and day without a year are the next ones to come.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import cache, lru_cache

import dateparser

from reminder_pipeline.core.replies import calendar_rules as rules
from reminder_pipeline.core.replies.lexicon import Lexicon, alternation

BLANK = " . "
TIME_WORDS = ("at", "um", "las", "a", "vers", "gegen", "around", "after", "before", "ab", "nach", "avant", "apres")
NUMERIC_DATE = re.compile(
    "".join(rf"(?<!\b{word} )" for word in TIME_WORDS)
    + r"(?<![\d$€£.,/:-])(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?:(?P=sep)(?P<year>\d{4}|\d{2}))?\.?"
    r"(?![\d/]|\s*(?:%|€|\$|eur|euro|uhr|h\b|pm\b|am\b|:|,\d))"
)
ISO_DATE = re.compile(r"\b(?P<year>20\d\d)-(?P<b>\d{1,2})-(?P<a>\d{1,2})\b")


@cache
def _month_name_dates(lexicon: Lexicon) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    month = f"(?P<month>{alternation(lexicon.months)})"
    year = r"(?:\s*(?:de |,)?\s*(?P<year>20\d\d))?"
    day_month = re.compile(rf"\b(?P<day>[0-3]?\d)(?:st|nd|rd|th|er|ro|o|\.)?\s*(?:de |of |the )?{month}\b{year}")
    month_day = re.compile(rf"\b{month}\s+(?:the )?(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\b{year}")
    weekday = re.compile(rf"\b(?P<weekday>{alternation(lexicon.weekdays)})\b")
    return day_month, month_day, weekday


@lru_cache(maxsize=4096)
def _dateparser(text: str, language: str, today: date) -> date | None:
    settings = {"RELATIVE_BASE": datetime.combine(today, time()), "PREFER_DATES_FROM": "future"}
    parsed = dateparser.parse(text, languages=[language], settings=settings)
    return parsed.date() if parsed else None


def _numeric(match: re.Match[str], today: date, day_first: bool) -> date | None:
    first, second = int(match.group("a")), int(match.group("b"))
    day, month = (first, second) if day_first else (second, first)
    if month > 12 >= day:
        day, month = month, day
    year_text = match.group("year")
    year = None if year_text is None else int(year_text) + (2000 if len(year_text) == 2 else 0)
    try:
        if year is not None:
            return date(year, month, day)
        date(2000, month, day)  # a real day of that month in a leap year
    except ValueError:
        return None
    found = rules.in_named_month(today, month, day) if (month, day) != (2, 29) else None
    return found


def _take(pattern: re.Pattern[str], text: str) -> tuple[str, list[re.Match[str]]]:
    matches = list(pattern.finditer(text))
    for match in reversed(matches):
        text = text[: match.start()] + BLANK + text[match.end() :]
    return text, matches


def dates_named(folded: str, lexicon: Lexicon, today: date, day_first: bool | None = None) -> list[date]:
    """Every date ``folded`` (see :func:`text.fold`) names in ``lexicon``'s language, on or after today."""
    text = folded
    found: list[date | None] = []
    for past in lexicon.past:
        text, _ = _take(past, text)
    for phrase in lexicon.periods:
        text, matches = _take(phrase.pattern, text)
        found.extend(phrase.rule(today, m) for m in matches)
    day_month, month_day, weekday = _month_name_dates(lexicon)
    for pattern in (day_month, month_day):
        text, matches = _take(pattern, text)
        for m in matches:
            spoken = f"{int(m.group('day'))} {lexicon.months[m.group('month')]} {m.group('year') or ''}".strip()
            found.append(_dateparser(spoken, lexicon.language, today))
    text, matches = _take(weekday, text)
    found.extend(_dateparser(lexicon.weekdays[m.group("weekday")], lexicon.language, today) for m in matches)
    order = lexicon.day_first if day_first is None else day_first
    for pattern in (ISO_DATE, NUMERIC_DATE):
        text, matches = _take(pattern, text)
        found.extend(_numeric(m, today, order if pattern is NUMERIC_DATE else True) for m in matches)
    for pattern in lexicon.day_of_month:
        text, matches = _take(pattern, text)
        found.extend(
            rules.next_day_of_month(today, int(m.group("day"))) for m in matches if 1 <= int(m.group("day")) <= 31
        )
    return [d for d in found if d is not None and d >= today]
