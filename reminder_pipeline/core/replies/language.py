"""Which of English, Spanish, French or German a reply is written in, from its words.

A reply is a few words, often without accents, so the evidence is counted rather than modelled:
common words of each language, the language's phrases the reply matched (weighted double), and
letters only one of them uses (ñ ¿ ¡ for Spanish, ß ä ö ü for German, ç è ê à ù œ for French).
No evidence, or a tie, is no language: "ok 👍" says nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from reminder_pipeline.core.replies.lexicon import Lexicon

WORD = re.compile(r"[a-z']+")
LETTERS = {
    "es": frozenset("ñ¿¡"),
    "de": frozenset("ßäöü"),
    "fr": frozenset("çèêàùœîôûë"),
}
PHRASE_WEIGHT = 2.0
LETTER_WEIGHT = 2.0


def detect_language(
    original: str, folded: str, lexicons: tuple[Lexicon, ...], phrases: Mapping[str, int]
) -> str | None:
    """The language with the most evidence, or None; ``phrases`` counts the cues matched per language."""
    words = WORD.findall(folded)
    lowered = original.casefold()
    scores: dict[str, float] = {}
    for lexicon in lexicons:
        score = float(sum(word in lexicon.markers for word in words))
        score += PHRASE_WEIGHT * phrases.get(lexicon.language, 0)
        score += LETTER_WEIGHT * any(c in LETTERS.get(lexicon.language, ()) for c in lowered)
        scores[lexicon.language] = score
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, best_score), (_, second_score) = ranked[0], ranked[1]
    return best if best_score > 0 and best_score > second_score else None
