"""What one language's tables hold, and the small builders they are written with.

A table entry is a regular expression over folded text (see :mod:`text`). ``specific`` cues are
matched first and their words blanked, so that "I have not paid" or "¿cómo puedo pagar?" are not
read again by the general cues ("paid", "puedo pagar"). Date phrases work the same way: past
phrases ("last Friday") are blanked before anything is read as a promised date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from reminder_pipeline.core.replies import calendar_rules as rules
from reminder_pipeline.core.replies.intents import ReplyIntent
from reminder_pipeline.core.replies.text import folded_pattern, strip_accents

DateRule = Callable[[date, "re.Match[str]"], date | None]


@dataclass(frozen=True)
class Cue:
    intent: ReplyIntent
    weight: float
    """How strongly the words alone say ``intent`` (0..1)."""
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class DatePhrase:
    pattern: re.Pattern[str]
    rule: DateRule


@dataclass(frozen=True, eq=False)
class Lexicon:
    language: str
    markers: frozenset[str]
    """Common words that say the text is in this language (folded)."""
    specific: tuple[Cue, ...]
    cues: tuple[Cue, ...]
    day_first: bool
    """How ``3/4`` is read: the 3rd of April (True) or March 4th."""
    weekdays: Mapping[str, str]
    """A weekday as customers write it (folded, typos too) → its name as dateparser reads it."""
    months: Mapping[str, str]
    """A month as customers write it (folded) → its name as dateparser reads it."""
    month_numbers: Mapping[str, int] = field(default_factory=dict)
    past: tuple[re.Pattern[str], ...] = ()
    periods: tuple[DatePhrase, ...] = ()
    day_of_month: tuple[re.Pattern[str], ...] = ()
    """Patterns with a ``day`` group for a day of the month said alone ("the 15th", "el 20", "am 30.")."""


class Tables:
    """Builders bound to one language's folding (German: umlauts may be typed as ae/oe/ue)."""

    def __init__(self, *, umlaut_e: bool = False) -> None:
        self.umlaut_e = umlaut_e

    def pattern(self, source: str) -> re.Pattern[str]:
        return folded_pattern(source, umlaut_e=self.umlaut_e)

    def spellings(self, word: str) -> set[str]:
        """How ``word`` is found in folded text: without accents, and for German also with ae/oe/ue."""
        found = {strip_accents(word)}
        if self.umlaut_e:
            found.add(strip_accents(word.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")))
        return found

    def words(self, text: str) -> frozenset[str]:
        """The space-separated words of ``text`` in all their spellings."""
        return frozenset(spelling for word in text.split() for spelling in self.spellings(word))

    def calendar_words(self, groups: tuple[tuple[str, ...], ...]) -> tuple[dict[str, str], dict[str, int]]:
        """Weekdays or months, each a group of spellings led by the name dateparser reads: the
        spelling → that name, and the spelling → its number (1-based)."""
        names: dict[str, str] = {}
        numbers: dict[str, int] = {}
        for number, group in enumerate(groups, start=1):
            for word in group:
                for spelling in self.spellings(word):
                    names[spelling] = group[0]
                    numbers[spelling] = number
        return names, numbers

    def cues(self, intent: ReplyIntent, weight: float, *sources: str) -> tuple[Cue, ...]:
        return tuple(Cue(intent, weight, self.pattern(s)) for s in sources)

    def patterns(self, *sources: str) -> tuple[re.Pattern[str], ...]:
        return tuple(self.pattern(s) for s in sources)

    def phrase(self, source: str, rule: Callable[[date], date | None]) -> DatePhrase:
        return DatePhrase(self.pattern(source), lambda today, _match: rule(today))

    def offset_phrase(self, source: str, numbers: Mapping[str, int], units: Mapping[str, rules.Unit]) -> DatePhrase:
        """``source`` with groups ``count`` (a word in ``numbers`` or digits; absent: one) and ``unit``."""

        def rule(today: date, match: re.Match[str]) -> date | None:
            count_word = (match.group("count") or "").strip()
            count = int(count_word) if count_word.isdigit() else numbers.get(count_word, 1 if not count_word else 0)
            unit = units.get(match.group("unit"))
            return rules.after(today, count, unit) if count and unit else None

        return DatePhrase(self.pattern(source), rule)

    def idiom_phrase(self, source: str, days: int) -> DatePhrase:
        """A fixed span said as an idiom ("dans quinze jours" is two weeks)."""
        return DatePhrase(self.pattern(source), lambda today, _match: rules.after(today, days, rules.Unit.DAY))

    def month_phrase(self, source: str, month_numbers: Mapping[str, int], day: int | None) -> DatePhrase:
        """``source`` with a ``month`` group: day ``day`` of that month (None: its last day)."""

        def rule(today: date, match: re.Match[str]) -> date | None:
            month = month_numbers.get(match.group("month"))
            return rules.in_named_month(today, month, day) if month else None

        return DatePhrase(self.pattern(source), rule)


def alternation(words: Mapping[str, object] | tuple[str, ...]) -> str:
    """A regex alternation of ``words``, longest first so "septembre" wins over "sept"."""
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
