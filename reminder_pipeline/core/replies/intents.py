"""What a customer's reply means: its intent, how sure we are, and the date of a promise to pay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class ReplyIntent(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    PAID = "paid"
    DISPUTE = "dispute"
    PROMISE_TO_PAY = "promise_to_pay"
    CALL_REQUEST = "call_request"
    OTHER = "other"


PRIORITY: tuple[ReplyIntent, ...] = (
    ReplyIntent.OPT_OUT,
    ReplyIntent.DISPUTE,
    ReplyIntent.PAID,
    ReplyIntent.PROMISE_TO_PAY,
    ReplyIntent.CALL_REQUEST,
    ReplyIntent.HELP,
    ReplyIntent.OPT_IN,
    ReplyIntent.OTHER,
)
"""Which intent wins a tie: an opt-out said in words is honoured whatever else the reply says; a
dispute outranks a claim of payment, which outranks a promise."""

CONFIDENT = 0.7
"""At or above this, the caller may act on the intent; below it, a person should read the reply."""


@dataclass(frozen=True)
class Classification:
    intent: ReplyIntent
    confidence: float
    """0..1: how sure the classifier is of ``intent`` (not calibrated as a probability)."""
    promised_date: date | None = None
    """Only for a promise to pay, and never before the ``today`` the reply was classified on."""
    language: str | None = None
    """``en``, ``es``, ``fr`` or ``de`` when the text says which; None for a bare keyword or ``ok``."""
