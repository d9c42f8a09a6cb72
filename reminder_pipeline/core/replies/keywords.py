"""Carrier keywords: a reply whose whole body is one of them is an opt-out, opt-in or help request.

Carriers (and Twilio's default opt-out handling) look at the whole body, case-insensitively, so
"STOP" and " stop! " are keywords and "please stop by the office" is not. Whitespace, punctuation
and symbols (emoji included) around the word are ignored; nothing inside it is.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum


class KeywordCommand(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


KEYWORDS: dict[str, KeywordCommand] = {
    **dict.fromkeys(
        ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"), KeywordCommand.OPT_OUT
    ),
    **dict.fromkeys(("START", "YES", "UNSTOP"), KeywordCommand.OPT_IN),
    **dict.fromkeys(("HELP", "INFO"), KeywordCommand.HELP),
}


def _ignorable(character: str) -> bool:
    return character.isspace() or unicodedata.category(character)[0] in "PSZC"


def keyword_command(body: str) -> KeywordCommand | None:
    """The command a whole message body is, or None when the body is anything more than one keyword."""
    start, end = 0, len(body)
    while start < end and _ignorable(body[start]):
        start += 1
    while end > start and _ignorable(body[end - 1]):
        end -= 1
    return KEYWORDS.get(body[start:end].upper())
