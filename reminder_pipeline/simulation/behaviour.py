"""How a customer answers a reminder: the response model every arm of a simulation shares.

The unreminded world is the demo generator's (``reminder_pipeline.demo.behaviour``): each customer has
a latent behaviour (punctual, forgetful, cash-strapped, disputing, never pays) and with it a
``reminder_sensitivity`` *s* (Beta-distributed around 0.3, 0.65, 0.25, 0.35 and 0.05). Without
reminders every invoice is paid as the generator drew it: late or not, in installments, after a
dispute, or never. The generator also says what reminders do — each one removes the share *s* of the
late part of the payment, one before the due date counting half, and each one after the due date
turns a never-paid invoice into a paid one with chance *s* — and this model plays that out in time,
reminder by reminder, for one that reached the customer (delivered; a bounce reaches nobody) while the
invoice is open and not disputed:

- its **effect** is ``e = min(0.95, s × weight × timing)``: weight 4 for a personalised SMS, 2 for an
  email, timing ½ before the due date. The SMS weight is calibrated on the UK Behavioural Insights
  Team's court-fine trial (Behavioural Insights Team, *Applying Behavioural Insights to Reduce Fraud,
  Error and Debt*, Cabinet Office, 2012): 5 % paid with no text, 23 % with a text, 33 % with a
  personalised text — so a personalised text made (33 − 5) / (100 − 5) ≈ 29 % of those who would not
  have paid pay, a plain one 19 %. Replayed in the simulated world (``trial_analogue``: invoices at
  least 21 days overdue, one SMS, paid within 14 days) weight 4 converts 29 % and weight 2 20 %: the
  trial's two texts. Email is taken to work like the plain text (an assumption: no trial measured it);
- **the late part shrinks**: the next payment, if it was to come after the due date, comes at
  ``due + (planned − due) × (1 − e)`` instead, but never sooner than the customer can act: 0–3 days
  after hearing (40 %, 30 %, 20 %, 10 %), at the next moment customers act. An invoice paid in
  installments moves its next installment, not the whole;
- **a never-payer pays** with chance *e* (the whole balance, or half of it when it pays in parts);
- **some promise** (a share 0.3 × *e*): they reply "I'll pay on Friday" (in their language, by the
  channel they were reached on) naming a weekday 1–6 days ahead, and keep the promise 60 % of the time;
- **disputers dispute**: an invoice its customer will dispute (the generator's dispute day, within 30
  days) is disputed at once in a reply ("I dispute this invoice, the amount is wrong");
- **STOP**: 1 % of the SMS a customer receives are answered STOP;
- bounces and undelivered SMS (the sandbox's ``bounce_rate`` and ``undelivered_rate``, 2 % each) reach
  nobody and change nothing.

Every draw comes from :class:`Dice`, keyed by what it is about (the invoice and how many reminders it
had), so that every arm meets the same dice in the same situation (common random numbers).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from reminder_pipeline.demo.behaviour import BEFORE_DUE_REMINDER_WEIGHT

BIT_NO_TEXT = 0.05
BIT_TEXT = 0.23
BIT_PERSONALISED_TEXT = 0.33
"""Shares paid in the Behavioural Insights Team's court-fine SMS trial (Cabinet Office, 2012)."""
DISPUTE_WITHIN_DAYS = 30


class ReplyKind(StrEnum):
    PROMISE = "promise"
    DISPUTE = "dispute"
    STOP = "stop"


PROMISE_WORDS = {
    "en": "I'll pay on {day}",
    "fr": "Je paierai {day}",
    "de": "Ich zahle am {day}",
    "es": "Pagaré el {day}",
}
WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
DISPUTE_WORDS = {
    "en": "I dispute this invoice, the amount is wrong",
    "fr": "Je conteste cette facture, le montant est faux",
    "de": "Ich widerspreche dieser Rechnung, der Betrag ist falsch",
    "es": "Reclamo esta factura, el importe es incorrecto",
}


def language_of(locale: str | None) -> str:
    language = (locale or "en").split("_")[0]
    return language if language in PROMISE_WORDS else "en"


def promise_text(locale: str | None, day: date) -> str:
    language = language_of(locale)
    return PROMISE_WORDS[language].format(day=WEEKDAYS[language][day.weekday()])


def dispute_text(locale: str | None) -> str:
    return DISPUTE_WORDS[language_of(locale)]


@dataclass(frozen=True)
class ResponseModel:
    """The response model's parameters (see the module's docstring for where each comes from)."""

    sms_weight: float = 4.0
    email_weight: float = 2.0
    before_due_weight: float = BEFORE_DUE_REMINDER_WEIGHT
    fatigue: float = 1.0
    max_effect: float = 0.95
    lag_days: tuple[float, ...] = (0.4, 0.3, 0.2, 0.1)
    promise_share: float = 0.3
    promise_kept: float = 0.6
    stop_rate: float = 0.01

    def effect(self, sensitivity: float, channel: str, earlier: int, before_due: bool) -> float:
        """The reminder's effect *e*: the late part of the payment shrinks by it, and a never-payer pays
        with that chance."""
        weight = self.sms_weight if channel == "sms" else self.email_weight
        timing = self.before_due_weight if before_due else 1.0
        return min(self.max_effect, sensitivity * weight * self.fatigue**earlier * timing)

    def lag(self, draw: float) -> int:
        """Days between a customer hearing and paying at the soonest, from a uniform draw."""
        total = 0.0
        for days, weight in enumerate(self.lag_days):
            total += weight
            if draw < total:
                return days
        return len(self.lag_days) - 1

    def promised_day(self, draw: float, today: date) -> date:
        """A weekday 1–6 days ahead (the weekday's name alone then says which day)."""
        ahead = [today + timedelta(days=n) for n in range(1, 7)]
        weekdays = [d for d in ahead if d.weekday() < 5]
        return weekdays[min(int(draw * len(weekdays)), len(weekdays) - 1)]


class Dice:
    """Uniform draws in [0, 1) keyed by what they decide: the same key gives the same draw in every arm."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def __call__(self, *key: object) -> float:
        digest = hashlib.blake2b(repr((self.seed, *key)).encode(), digest_size=8).digest()
        return struct.unpack(">Q", digest)[0] / 2**64
