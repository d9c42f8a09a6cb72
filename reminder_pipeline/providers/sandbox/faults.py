"""What can go wrong at the sandbox, from a spec like ``"error_rate=0.05,latency_ms=50,rate_limit=20/s"``.

Names (``provider_error_rate`` and ``provider_timeout_rate`` are aliases of the first two):

- ``error_rate``: a send answers 5xx (Twilio 20500, SendGrid 500); nothing is stored.
- ``timeout_rate``: a send is accepted and stored, then its answer is held ``hold_ms`` (default 30 s),
  longer than any client timeout: the client cannot know it was accepted.
- ``drop_rate``: any provider request is read, then its connection closed without an answer; nothing stored.
- ``latency_ms``, ``jitter_ms``: every provider request waits ``latency_ms`` plus up to ``jitter_ms``.
- ``rate_limit=N/s`` or ``N/min``: sends beyond N in a window answer 429, for each provider apart.
- ``sms_error_<code>=rate``, ``email_error_<status>=rate``: a send answers that Twilio code or SendGrid status.
- ``seed``: makes the draws repeatable.
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
DURATIONS = ("latency_ms", "jitter_ms", "hold_ms")
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
            elif name in RATES:
                values[name] = _rate(name, raw)
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
        return replace(cls(), **values)

    def describe(self) -> str:
        """The spec back as text, with only what differs from no faults."""
        default = FaultSpec()
        parts = [
            f"{f.name}={_number(getattr(self, f.name))}"
            for f in fields(self)
            if f.name in RATES + DURATIONS and getattr(self, f.name) != getattr(default, f.name)
        ]
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
    "sms_error_<code>, email_error_<status>, seed, heavy (aliases: provider_error_rate, provider_timeout_rate)"
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
