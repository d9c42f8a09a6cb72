"""A customer's free-text reply → its intent, a confidence, the promised date and the language.

How a reply is read:

1. a carrier keyword as the whole body (:func:`keyword_command`) is that command, confidence 1;
2. the text is folded (:mod:`text`) and every language's specific phrases are matched and blanked
   (negations such as "I have NOT paid", "no he pagado todavía"; "how do I pay?"), then the general
   cues; each cue has a weight, an intent's score is its best cue's weight (a little more for each
   further cue);
3. the dates it names (:mod:`dates`) in its language: a date raises a promise, and a short reply
   that is only a date ("fin du mois", "Ende nächster Woche") is a promise on its own (in a longer
   reply where nothing else is recognised, a promise below the confidence threshold);
4. the best score wins (a tie goes by :data:`intents.PRIORITY`); a competing intent that cannot be
   true at once (paid and promise, paid and dispute, ...) lowers the confidence by half its score.
   Nothing recognised is ``other`` with a low confidence, so the caller hands it to a person.

Pure: no I/O; ``today`` is the caller's (the business date the reply arrived on).
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from reminder_pipeline.core.replies import lexicon_de, lexicon_en, lexicon_es, lexicon_fr
from reminder_pipeline.core.replies.dates import BLANK, dates_named
from reminder_pipeline.core.replies.intents import PRIORITY, Classification, ReplyIntent
from reminder_pipeline.core.replies.keywords import keyword_command
from reminder_pipeline.core.replies.language import detect_language
from reminder_pipeline.core.replies.lexicon import Cue, Lexicon
from reminder_pipeline.core.replies.text import fold

LEXICONS: tuple[Lexicon, ...] = (lexicon_en.LEXICON, lexicon_es.LEXICON, lexicon_fr.LEXICON, lexicon_de.LEXICON)
BY_LANGUAGE = {lexicon.language: lexicon for lexicon in LEXICONS}

MAX_CHARACTERS = 2000
"""Only the start of a reply is read: a customer's words come first, quoted history and footers after."""
UNCLEAR = 0.3
"""Confidence of ``other`` when nothing in the reply was recognised."""
DATE_ALONE = 0.75
"""A short reply to a payment reminder that names a coming date and nothing else is a promise for it."""
DATE_IN_PROSE = 0.5
"""A longer reply whose only recognised part is a date: probably a promise, but a person should read it."""
SHORT_REPLY_WORDS = 6
DATE_BONUS = 0.1
FURTHER_CUE_BONUS = 0.03
MAX_SCORE = 0.97
WEAK = 0.6
CONFLICT_PENALTY = 0.5
CONFLICTS = frozenset(
    frozenset(pair)
    for pair in (
        (ReplyIntent.PAID, ReplyIntent.DISPUTE),
        (ReplyIntent.PAID, ReplyIntent.PROMISE_TO_PAY),
        (ReplyIntent.PAID, ReplyIntent.OTHER),
        (ReplyIntent.DISPUTE, ReplyIntent.PROMISE_TO_PAY),
        (ReplyIntent.OPT_IN, ReplyIntent.OPT_OUT),
    )
)


def _evidence(folded: str) -> list[tuple[Cue, str]]:
    """Every cue the text matches, with its language; specific phrases are blanked once matched."""
    found: list[tuple[Cue, str]] = []
    text = folded
    for lexicon in LEXICONS:
        for cue in lexicon.specific:
            matches = list(cue.pattern.finditer(text))
            for match in reversed(matches):
                text = text[: match.start()] + BLANK + text[match.end() :]
            found.extend((cue, lexicon.language) for _ in matches)
    for lexicon in LEXICONS:
        found.extend((cue, lexicon.language) for cue in lexicon.cues if cue.pattern.search(text))
    return [(cue, language) for cue, language in found if cue.weight > 0]


def _scores(evidence: list[tuple[Cue, str]], has_date: bool, words: int) -> dict[ReplyIntent, float]:
    best: dict[ReplyIntent, float] = {}
    count: Counter[ReplyIntent] = Counter()
    for cue, _language in evidence:
        best[cue.intent] = max(best.get(cue.intent, 0.0), cue.weight)
        count[cue.intent] += 1
    scores = {intent: min(MAX_SCORE, w + FURTHER_CUE_BONUS * (count[intent] - 1)) for intent, w in best.items()}
    if has_date:
        if ReplyIntent.PROMISE_TO_PAY in scores:
            scores[ReplyIntent.PROMISE_TO_PAY] = min(MAX_SCORE, scores[ReplyIntent.PROMISE_TO_PAY] + DATE_BONUS)
        elif all(intent is ReplyIntent.OTHER and w < WEAK for intent, w in scores.items()):
            scores[ReplyIntent.PROMISE_TO_PAY] = DATE_ALONE if words <= SHORT_REPLY_WORDS else DATE_IN_PROSE
    return scores


def classify_reply(text: str, today: date, *, day_first: bool | None = None) -> Classification:
    """What ``text`` means, read on ``today``; ``day_first`` overrides the language's reading of
    ``3/4`` (None: day first for es/fr/de and an unknown language, month first for en)."""
    command = keyword_command(text)
    if command is not None:
        return Classification(ReplyIntent(command.value), 1.0)
    folded = fold(text[:MAX_CHARACTERS])
    if not any(c.isalnum() for c in folded):
        return Classification(ReplyIntent.OTHER, 0.0)
    evidence = _evidence(folded)
    language = detect_language(text[:MAX_CHARACTERS], folded, LEXICONS, Counter(lang for _cue, lang in evidence))
    lexicons = (BY_LANGUAGE[language],) if language else LEXICONS
    order = True if day_first is None and language is None else day_first
    dates = sorted({d for lexicon in lexicons for d in dates_named(folded, lexicon, today, order)})
    scores = _scores(evidence, bool(dates), len(folded.split()))
    if not scores:
        return Classification(ReplyIntent.OTHER, UNCLEAR, language=language)
    intent = max(scores, key=lambda i: (scores[i], -PRIORITY.index(i)))
    rival = max((s for i, s in scores.items() if frozenset((intent, i)) in CONFLICTS), default=0.0)
    confidence = round(max(0.0, scores[intent] - CONFLICT_PENALTY * rival), 2)
    promised = dates[-1] if intent is ReplyIntent.PROMISE_TO_PAY and dates else None
    return Classification(intent, confidence, promised, language)
