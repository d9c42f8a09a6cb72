"""What can go wrong at the sandbox, from a spec like ``"error_rate=0.05,latency_ms=50,rate_limit=20/s"``.

Names (``provider_error_rate`` and ``provider_timeout_rate`` are aliases of the first two):

- ``error_rate``: a send answers 5xx (Twilio 20500, SendGrid 500); nothing is stored.
- ``timeout_rate``: a send is accepted and stored, then its answer is held ``hold_ms`` (default 30 s),
  longer than any client timeout: the client cannot know it was accepted.
- ``drop_rate``: any provider request is read, then its connection closed without an answer; nothing stored.
- ``latency_ms``, ``jitter_ms``: every provider request waits ``latency_ms`` plus up to ``jitter_ms``.
- ``rate_limit=N/s`` or ``N/min``: sends beyond N in a window answer 429, for each provider apart.
- ``sms_error_<code>=rate``, ``email_error_<status>=rate``: a send answers that Twilio code or SendGrid status.
- ``seed``: makes the draws repeatable (the webhooks' too: each message's fate is drawn from the seed
  and its reminder key, so it does not depend on the order in which threads ask).

What happens after a send was accepted, and to the webhooks that tell of it:

- ``undelivered_rate``: an SMS is sent, then undelivered with ErrorCode 30003, 30005, 30006 or 30007;
  ``failed_rate``: it fails before it is sent (30036). Together at most 1.
- ``bounce_rate``, ``blocked_rate``, ``dropped_rate``: an email bounces (``type`` bounce), is blocked
  (a bounce of ``type`` blocked) or is dropped after ``processed``. Together at most 1.
  ``deferred_rate``: a ``deferred`` before it is delivered or bounces.
- ``open_rate``, ``click_rate``, ``spamreport_rate``, ``unsubscribe_rate``: what a recipient of a
  delivered email does (a click only where the email has a link; it comes after an open).
- ``webhook_loss_rate``: a status callback or event is never sent; ``webhook_duplicate_rate``: it
  is sent twice (a SendGrid event again in a later batch).
- ``callback_delay_ms``: each callback or event of a message goes that long after the one before
  it (the first after the send): late. ``callback_shuffle=1``: a message's callbacks and events go
  in another order than they happened.
- ``heavy``: a preset (:data:`HEAVY`); names after it override it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field, fields, replace
from typing import Any

from reminder_pipeline.providers.sandbox.errors import INJECTABLE_TWILIO_CODES, SENDGRID_ERRORS

ALIASES = {"provider_error_rate": "error_rate", "provider_timeout_rate": "timeout_rate"}
HEAVY = "error_rate=0.05,timeout_rate=0.02,drop_rate=0.02,latency_ms=20,jitter_ms=30,rate_limit=200/s"
RATE_LIMIT = re.compile(r"^(\d+)/(s|sec|min)$")
PERIODS = {"s": 1.0, "sec": 1.0, "min": 60.0}
RATES = ("error_rate", "timeout_rate", "drop_rate")
FATE_RATES = (
    "undelivered_rate", "failed_rate", "bounce_rate", "blocked_rate", "dropped_rate", "deferred_rate",
    "open_rate", "click_rate", "spamreport_rate", "unsubscribe_rate", "webhook_loss_rate", "webhook_duplicate_rate",
)  # fmt: skip
EXCLUSIVE = (("undelivered_rate", "failed_rate"), ("bounce_rate", "blocked_rate", "dropped_rate"))
"""Rates of outcomes that exclude each other: each group adds up to at most 1."""
DURATIONS = ("latency_ms", "jitter_ms", "hold_ms", "callback_delay_ms")
FLAGS = ("callback_shuffle",)
DEFAULT_HOLD_MS = 30_000.0


class FaultSpecError(ValueError):
    """A fault spec that cannot be read; the message says which part and what is allowed."""


@dataclass(frozen=True)
class RateLimit:
    count: int
    period_seconds: float

    def __str__(self) -> str:
        return f"{self.count}/{'s' if self.period_seconds == 1.0 else 'min'}"


@dataclass(frozen=True)
class FaultSpec:
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    drop_rate: float = 0.0
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    hold_ms: float = DEFAULT_HOLD_MS
    rate_limit: RateLimit | None = None
    sms_errors: tuple[tuple[int, float], ...] = field(default=())
    """(Twilio error code, rate) in the order given."""
    email_errors: tuple[tuple[int, float], ...] = field(default=())
    """(SendGrid HTTP status, rate) in the order given."""
    seed: int | None = None
    undelivered_rate: float = 0.0
    failed_rate: float = 0.0
    bounce_rate: float = 0.0
    blocked_rate: float = 0.0
    dropped_rate: float = 0.0
    deferred_rate: float = 0.0
    open_rate: float = 0.0
    click_rate: float = 0.0
    spamreport_rate: float = 0.0
    unsubscribe_rate: float = 0.0
    webhook_loss_rate: float = 0.0
    webhook_duplicate_rate: float = 0.0
    callback_delay_ms: float = 0.0
    callback_shuffle: bool = False

    @classmethod
    def parse(cls, spec: str, *, ignore: Collection[str] = ()) -> FaultSpec:
        """The faults ``spec`` names; names in ``ignore`` (another component's faults) are skipped."""
        values: dict[str, Any] = {}
        sms: dict[int, float] = {}
        email: dict[int, float] = {}
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            if item == "heavy":
                preset = cls.parse(HEAVY)
                values.update({f.name: getattr(preset, f.name) for f in fields(preset) if f.name in _PRESET_FIELDS})
                continue
            name, sep, raw = (part.strip() for part in item.partition("="))
            if not sep:
                raise FaultSpecError(f"fault '{item}' is not name=value (or 'heavy'); known: {KNOWN}")
            name = ALIASES.get(name, name)
            if name in ignore:
                continue
            if name.startswith("sms_error_"):
                sms[_code(name, "sms_error_", INJECTABLE_TWILIO_CODES)] = _rate(name, raw)
            elif name.startswith("email_error_"):
                email[_code(name, "email_error_", frozenset(SENDGRID_ERRORS))] = _rate(name, raw)
            elif name in RATES or name in FATE_RATES:
                values[name] = _rate(name, raw)
            elif name in FLAGS:
                values[name] = _flag(name, raw)
            elif name in DURATIONS:
                values[name] = _milliseconds(name, raw)
            elif name == "rate_limit":
                values[name] = _rate_limit(raw)
            elif name == "seed":
                values[name] = _seed(raw)
            else:
                raise FaultSpecError(f"unknown fault '{name}'; known: {KNOWN}")
        if sms:
            values["sms_errors"] = tuple(sms.items())
        if email:
            values["email_errors"] = tuple(email.items())
        for group in EXCLUSIVE:
            if sum(values.get(name, 0.0) for name in group) > 1.0 + 1e-9:
                raise FaultSpecError(f"faults {' + '.join(group)} add up to more than 1 (one excludes the other)")
        return replace(cls(), **values)

    def describe(self) -> str:
        """The spec back as text, with only what differs from no faults."""
        default = FaultSpec()
        parts = [
            f"{f.name}={_number(getattr(self, f.name))}"
            for f in fields(self)
            if f.name in RATES + DURATIONS + FATE_RATES and getattr(self, f.name) != getattr(default, f.name)
        ]
        parts += [f"{name}=1" for name in FLAGS if getattr(self, name)]
        if self.rate_limit:
            parts.append(f"rate_limit={self.rate_limit}")
        parts += [f"sms_error_{code}={_number(rate)}" for code, rate in self.sms_errors]
        parts += [f"email_error_{status}={_number(rate)}" for status, rate in self.email_errors]
        if self.seed is not None:
            parts.append(f"seed={self.seed}")
        return ",".join(parts)


_PRESET_FIELDS = {"error_rate", "timeout_rate", "drop_rate", "latency_ms", "jitter_ms", "rate_limit"}
KNOWN = (
    "error_rate, timeout_rate, drop_rate, latency_ms, jitter_ms, hold_ms, rate_limit=N/s|N/min, "
    "sms_error_<code>, email_error_<status>, " + ", ".join(FATE_RATES) + ", callback_delay_ms, callback_shuffle=0|1, "
    "seed, heavy (aliases: provider_error_rate, provider_timeout_rate)"
)


def _number(value: float) -> str:
    return f"{value:g}"


def _rate(name: str, raw: str) -> float:
    try:
        rate = float(raw)
    except ValueError:
        raise FaultSpecError(f"fault {name}={raw}: a rate is a number from 0 to 1") from None
    if not 0.0 <= rate <= 1.0:
        raise FaultSpecError(f"fault {name}={raw}: a rate is a number from 0 to 1")
    return rate


def _flag(name: str, raw: str) -> bool:
    if raw not in ("0", "1"):
        raise FaultSpecError(f"fault {name}={raw}: 1 (on) or 0 (off)")
    return raw == "1"


def _milliseconds(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise FaultSpecError(f"fault {name}={raw}: milliseconds, a number >= 0") from None
    if not 0.0 <= value < float("inf"):
        raise FaultSpecError(f"fault {name}={raw}: milliseconds, a number >= 0")
    return value


def _rate_limit(raw: str) -> RateLimit:
    match = RATE_LIMIT.match(raw)
    if not match or int(match.group(1)) < 1:
        raise FaultSpecError(f"fault rate_limit={raw}: write N/s or N/min with N >= 1, e.g. rate_limit=20/s")
    return RateLimit(int(match.group(1)), PERIODS[match.group(2)])


def _seed(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise FaultSpecError(f"fault seed={raw}: a whole number") from None


def _code(name: str, prefix: str, allowed: frozenset[int]) -> int:
    text = name.removeprefix(prefix)
    if not text.isdigit() or int(text) not in allowed:
        raise FaultSpecError(f"fault {name}: {prefix}<code> takes one of {', '.join(map(str, sorted(allowed)))}")
    return int(text)
