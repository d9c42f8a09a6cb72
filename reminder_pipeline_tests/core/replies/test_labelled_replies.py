"""Accuracy on labelled customer replies in four languages (today: Tuesday 10 March 2026).

Columns: text, language, intent, promised_date (for a promise that names one). Written as
customers write (typos, no accents, mixed case, emoji, greetings and signatures), in rounds, each
measured once before any tuning on it:

1. ``labelled_replies.tsv`` and ``labelled_replies_heldout.tsv`` (367 replies, written before the
   classifier; the held-out quarter, chosen by a hash of each text, never used for tuning: 100 %);
2. ``labelled_replies_round2.tsv`` (91 harder replies: 83.7 % and 66.7 % when first measured, then
   tuned on);
3. ``labelled_replies_round3.tsv`` (60: 63.3 %, no confident answer wrong; then tuned on);
4. ``labelled_replies_round4.tsv`` (56: 66.1 %, 28 confident answers all right; never tuned on).

The same person wrote the replies and the phrase tables, so the later rounds' first measures are
the better estimate on replies nobody anticipated: about two thirds right, and what is missed comes
back as ``other`` with a low confidence, which the caller hands to a person.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from reminder_pipeline.core.replies import CONFIDENT, ReplyIntent, classify_reply

HERE = Path(__file__).parent
TODAY = date(2026, 3, 10)
TUNING = HERE / "labelled_replies.tsv"
HELD_OUT = HERE / "labelled_replies_heldout.tsv"
ROUND_2 = HERE / "labelled_replies_round2.tsv"
ROUND_3 = HERE / "labelled_replies_round3.tsv"
NEVER_TUNED = HERE / "labelled_replies_round4.tsv"
LANGUAGES = ("en", "es", "fr", "de")


@dataclass(frozen=True)
class Labelled:
    text: str
    language: str
    intent: ReplyIntent
    promised_date: date | None


def load(path: Path) -> list[Labelled]:
    with path.open(encoding="utf-8", newline="") as file:
        return [
            Labelled(
                row["text"],
                row["language"],
                ReplyIntent(row["intent"]),
                date.fromisoformat(row["promised_date"]) if row["promised_date"] else None,
            )
            for row in csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE)
        ]


@dataclass(frozen=True)
class Score:
    right: Counter[str]
    total: Counter[str]
    mistakes: list[str]

    def share(self, language: str | None = None) -> float:
        if language is None:
            return sum(self.right.values()) / sum(self.total.values())
        return self.right[language] / self.total[language]

    def summary(self) -> str:
        per_language = ", ".join(
            f"{lang} {self.share(lang):.1%} ({self.right[lang]}/{self.total[lang]})" for lang in LANGUAGES
        )
        return f"all {self.share():.1%} ({sum(self.right.values())}/{sum(self.total.values())}); {per_language}"


def intent_score(rows: list[Labelled]) -> Score:
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    mistakes = []
    for row in rows:
        found = classify_reply(row.text, TODAY)
        total[row.language] += 1
        if found.intent is row.intent:
            right[row.language] += 1
        else:
            mistakes.append(f"{row.text!r}: {found.intent.value} ({found.confidence}), labelled {row.intent.value}")
    return Score(right, total, mistakes)


def date_score(rows: list[Labelled]) -> Score:
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    mistakes = []
    for row in rows:
        if row.intent is not ReplyIntent.PROMISE_TO_PAY:
            continue
        found = classify_reply(row.text, TODAY).promised_date
        total[row.language] += 1
        if found == row.promised_date:
            right[row.language] += 1
        else:
            mistakes.append(f"{row.text!r}: {found}, labelled {row.promised_date}")
    return Score(right, total, mistakes)


ALL = load(TUNING) + load(HELD_OUT) + load(ROUND_2) + load(ROUND_3) + load(NEVER_TUNED)


def test_the_labelled_set_is_large_and_covers_four_languages_and_every_intent() -> None:
    held_out = load(HELD_OUT)
    first_round = load(TUNING) + held_out
    assert len(ALL) >= 200
    assert {lang: n >= 50 for lang, n in Counter(r.language for r in ALL).items()} == dict.fromkeys(LANGUAGES, True)
    assert {r.intent for r in ALL} == set(ReplyIntent)
    assert 0.2 <= len(held_out) / len(first_round) <= 0.3
    assert len({(r.language, r.text) for r in ALL}) == len(ALL)
    assert all(r.promised_date is None or r.intent is ReplyIntent.PROMISE_TO_PAY for r in ALL)


def test_intent_accuracy_is_at_least_95_percent() -> None:
    score = intent_score(ALL)
    assert score.share() >= 0.95, f"{score.summary()}; wrong: {score.mistakes}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_language_is_left_behind(language: str) -> None:
    score = intent_score(ALL)
    assert score.share(language) >= 0.9, f"{score.summary()}; wrong: {score.mistakes}"


def test_intent_accuracy_on_the_held_out_replies() -> None:
    score = intent_score(load(HELD_OUT))
    assert score.share() >= 0.9, f"held out: {score.summary()}; wrong: {score.mistakes}"


def test_the_round_never_tuned_on() -> None:
    """Bars set before it was first measured: two in three right, nine in ten confident answers right."""
    rows = load(NEVER_TUNED)
    score = intent_score(rows)
    assert score.share() >= 0.6, f"never tuned on: {score.summary()}; wrong: {score.mistakes}"
    confident = [(row, found) for row in rows if (found := classify_reply(row.text, TODAY)).confidence >= CONFIDENT]
    assert sum(found.intent is row.intent for row, found in confident) >= 0.9 * len(confident)


def test_a_confident_answer_is_almost_always_right() -> None:
    """What the caller acts on without a person: at or above :data:`CONFIDENT`."""
    answers = [(row, classify_reply(row.text, TODAY)) for row in ALL]
    confident = [(row, found) for row, found in answers if found.confidence >= CONFIDENT]
    wrong = [f"{row.text!r}: {found.intent.value}" for row, found in confident if found.intent is not row.intent]
    assert len(wrong) <= 0.02 * len(confident), wrong
    assert len(confident) >= 0.8 * len(answers)


def test_promised_dates_of_labelled_promises() -> None:
    score = date_score(ALL)
    assert score.share() >= 0.95, f"{score.summary()}; wrong: {score.mistakes}"
