"""Twilio's default opt-out handling (PROVIDERS.md §3): a STOP to a number blocks its sends until START.

Only a whole-body keyword counts (case and surrounding whitespace or punctuation aside). Twilio
answers the keyword itself and still posts the message on; later sends from that number to the
recipient fail with 21610. The sandbox keeps this in memory only.
"""

from __future__ import annotations

import string
import threading
from enum import StrEnum

OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN = frozenset({"START", "YES", "UNSTOP"})
HELP = frozenset({"HELP", "INFO"})


class Keyword(StrEnum):
    STOP = "STOP"
    START = "START"
    HELP = "HELP"


AUTO_REPLIES = {
    Keyword.STOP: "You have successfully been unsubscribed. You will not receive any more messages from this "
    "number. Reply START to resubscribe.",
    Keyword.START: "You have successfully been re-subscribed to messages from this number. Reply HELP for help. "
    "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
    Keyword.HELP: "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
}
"""Twilio's default answers to the keywords."""


def keyword(body: str) -> Keyword | None:
    word = body.strip(string.whitespace + string.punctuation).upper()
    if word in OPT_OUT:
        return Keyword.STOP
    if word in OPT_IN:
        return Keyword.START
    if word in HELP:
        return Keyword.HELP
    return None


class OptOuts:
    """(recipient, our number) pairs that sent STOP and not START since; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pairs: set[tuple[str, str]] = set()

    def heard(self, sender: str, to: str, body: str) -> Keyword | None:
        """Note an inbound message from ``sender`` to our number ``to``; the keyword it was, if any."""
        word = keyword(body)
        with self._lock:
            if word is Keyword.STOP:
                self._pairs.add((sender, to))
            elif word is Keyword.START:
                self._pairs.discard((sender, to))
        return word

    def blocked(self, to: str, sender: str) -> bool:
        with self._lock:
            return (to, sender) in self._pairs
