"""Text folded for matching: lower case, no accents, no emoji, one space between words.

Phrase tables are written with their accents (readable) and folded the same way when compiled, so
``pagué`` in a table matches "pague", "PAGUÉ" and "pagué". German tables fold an umlaut to "a" or
"ae" (customers without the key write "ueberweisen"), ß to "ss".
"""

from __future__ import annotations

import re
import unicodedata

APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'", "\u02bc": "'"})
KEPT_PUNCTUATION = frozenset("'/.-?!,:;")
REPEATED_LETTER = re.compile(r"([^\W\d_])\1{2,}")
SPACES = re.compile(r"\s+")
UMLAUTS = {"ä": "a(?:e)?", "ö": "o(?:e)?", "ü": "u(?:e)?", "Ä": "a(?:e)?", "Ö": "o(?:e)?", "Ü": "u(?:e)?"}


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """``text`` as the phrase tables see it; letters repeated three times or more count once ("pleeease")."""
    folded = strip_accents(text.translate(APOSTROPHES))
    kept = "".join(c if c.isalnum() or c.isspace() or c in KEPT_PUNCTUATION else " " for c in folded)
    return SPACES.sub(" ", REPEATED_LETTER.sub(r"\1", kept)).strip()


def folded_pattern(pattern: str, *, umlaut_e: bool = False) -> re.Pattern[str]:
    """A table's regular expression (written in lower case), folded like the text it is matched
    against: only its letters outside ASCII change, so regex syntax (``\\W``, ``(?P<day>``) stays."""
    pieces: list[str] = []
    for character in pattern:
        if character.isascii():
            pieces.append(character)
        elif umlaut_e and character in UMLAUTS:
            pieces.append(UMLAUTS[character])
        else:
            pieces.append(strip_accents(character))
    return re.compile("".join(pieces))
