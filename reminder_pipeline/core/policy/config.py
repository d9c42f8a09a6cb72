"""The policy file (YAML), validated with errors that name the line and the field.

It holds everything a finance team decides and the code must not: how customers are segmented,
the reminder ladders, which segment gets which ladder, the rules of contact (send window, caps,
intervals, business days), the sender's identity and the payment links.
"""

from __future__ import annotations

import ipaddress
from datetime import date, time
from enum import StrEnum
from typing import Annotated, Literal
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.core.channels import CHANNEL_NAMES, NO_CHANNEL
from reminder_pipeline.core.outbox import STATEMENT_LADDER
from reminder_pipeline.core.receivables import aging_labels
from reminder_pipeline.core.validation.contacts import countries
from reminder_pipeline.core.yaml_config import located_problems, parse_yaml_model

EARLIEST_SEND, LATEST_SEND = time(8, 0), time(21, 0)
"""Promise 3: nothing reaches a provider outside 08:00-21:00 in the recipient's local time."""

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Tone(StrEnum):
    """How a message speaks, from a note before the due date to the last word before a collector."""

    COURTESY = "courtesy"
    FRIENDLY = "friendly"
    FIRM = "firm"
    FINAL = "final"


class StepAction(StrEnum):
    MESSAGE = "message"
    HANDOFF = "handoff"
    """A task for a collector instead of a message."""


class LaterInvoices(StrEnum):
    """What happens to a customer's invoices billed after a hand-off to a collector."""

    NEW_EPISODE = "new_episode"
    """The invoices the hand-off covered are the collector's until paid; later ones are dunned as their own episode."""
    HOLD = "hold"
    """Nothing more is planned for the customer until the handed-off episode's invoice is paid."""


EARLIEST_OFFSET_DAYS, LATEST_OFFSET_DAYS = -365, 3 * 365
"""A step at most a year before the due date and three years after it; anything further is a typo."""
MAX_GAP_DAYS = 90
"""The longest wait the rules of contact may ask for (between contacts, after a promise to pay)."""
Days = Annotated[int, Field(ge=1, le=LATEST_OFFSET_DAYS)]
Probability = Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ValueTier(_Strict):
    name: str
    below: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] | None = Field(
        default=None, description="upper bound of the open balance in major units"
    )


class Segmentation(_Strict):
    risk_bands: dict[str, Probability] = Field(
        description="band name: upper bound of P(late), in increasing order; the last must be 1.0"
    )
    aging_edges: list[Days] = Field(description="days overdue that end each aging bucket after 'not yet due'")
    value_tiers: dict[str, list[ValueTier]] = Field(
        description="per currency (or 'default'): tiers by open balance, increasing, the last without a bound"
    )

    @field_validator("risk_bands")
    @classmethod
    def _bands_increase(cls, bands: dict[str, float]) -> dict[str, float]:
        bounds = list(bands.values())
        if not bounds or bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
            raise ValueError("risk band bounds must strictly increase")
        if bounds[-1] != 1.0 or bounds[0] <= 0.0:
            raise ValueError("risk band bounds must lie in (0, 1] and end at 1.0")
        return bands

    @field_validator("aging_edges")
    @classmethod
    def _edges_increase(cls, edges: list[int]) -> list[int]:
        if not edges or edges != sorted(set(edges)) or edges[0] < 1:
            raise ValueError("aging edges must be increasing whole days, the first at least 1")
        return edges

    @model_validator(mode="after")
    def _tiers(self) -> Segmentation:
        if "default" not in self.value_tiers:
            raise ValueError("value_tiers needs a 'default' entry")
        for currency, tiers in self.value_tiers.items():
            bounds = [t.below for t in tiers]
            if not tiers or bounds[-1] is not None or None in bounds[:-1]:
                raise ValueError(f"value_tiers.{currency}: every tier but the last needs 'below', the last none")
            finite = [b for b in bounds if b is not None]
            if finite != sorted(finite) or len(set(finite)) != len(finite):
                raise ValueError(f"value_tiers.{currency}: bounds must strictly increase")
        return self

    def aging_labels(self) -> list[str]:
        return aging_labels(self.aging_edges)

    def value_tier_names(self) -> set[str]:
        return {tier.name for tiers in self.value_tiers.values() for tier in tiers}


class SendWindow(_Strict):
    """Local hours in which a message may reach the recipient; never wider than 08:00-21:00."""

    start: time = time(9, 0)
    end: time = time(19, 0)

    @field_validator("start", "end")
    @classmethod
    def _local(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("a send window is in the recipient's local time: write it without a time zone")
        return value

    @model_validator(mode="after")
    def _within_allowed(self) -> SendWindow:
        if self.start < EARLIEST_SEND or self.end > LATEST_SEND:
            raise ValueError(
                f"the send window {self.start:%H:%M}-{self.end:%H:%M} is wider than the allowed 08:00-21:00"
            )
        if self.start >= self.end:
            raise ValueError(f"the send window starts ({self.start:%H:%M}) after it ends ({self.end:%H:%M})")
        return self


def _distinct_days(days: list[Weekday] | None) -> list[Weekday] | None:
    if days is not None and (not days or len(set(days)) != len(days)):
        raise ValueError("business_days must name each weekday at most once, and at least one")
    return days


class CountryRules(_Strict):
    """Overrides for customers in one country: its working week, its own quiet days, a narrower window."""

    business_days: list[Weekday] | None = None
    observe_public_holidays: bool | None = None
    quiet_days: list[date] = Field(default_factory=list, description="extra days without reminders")
    send_window: SendWindow | None = None

    @field_validator("business_days")
    @classmethod
    def _some_days(cls, days: list[Weekday] | None) -> list[Weekday] | None:
        return _distinct_days(days)


class ContactRules(_Strict):
    send_window: SendWindow = Field(default_factory=SendWindow)
    min_days_between_contacts: int = Field(default=3, ge=0, le=MAX_GAP_DAYS)
    weekly_cap: int = Field(default=2, ge=1, le=7, description="messages per customer in any 7 days")
    business_days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]))
    observe_public_holidays: bool = True
    quiet_days: list[date] = Field(default_factory=list, description="days without reminders anywhere")
    countries: dict[str, CountryRules] = Field(default_factory=dict, description="per ISO 3166 alpha-2 country")
    promise_grace_days: int = Field(default=3, ge=0, le=MAX_GAP_DAYS)
    default_language: str = Field(
        default="en", description="the language of customers whose own has no templates: it must have templates"
    )

    @field_validator("business_days")
    @classmethod
    def _some_days(cls, days: list[Weekday]) -> list[Weekday]:
        _distinct_days(days)
        return days

    @field_validator("countries")
    @classmethod
    def _known_countries(cls, rules: dict[str, CountryRules]) -> dict[str, CountryRules]:
        unknown = sorted(code for code in rules if code not in countries())
        if unknown:
            raise ValueError(f"unknown country code(s) {unknown}: use ISO 3166 alpha-2, e.g. DE, US")
        return rules

    @field_validator("default_language")
    @classmethod
    def _a_language(cls, value: str) -> str:
        try:
            parsed: Locale | None = Locale.parse(value)
        except (UnknownLocaleError, ValueError):
            parsed = None
        if parsed is None or str(parsed) != value or parsed.language != value:
            raise ValueError(
                f"'{value}' is not a language code: templates are per language, name one such as en, de or fr"
            )
        return value

    def for_country(self, country: str | None) -> tuple[list[Weekday], bool, set[date], SendWindow]:
        """The working week, whether public holidays are quiet, the quiet days and the window in ``country``."""
        override = self.countries.get(country or "")
        if override is None:
            return self.business_days, self.observe_public_holidays, set(self.quiet_days), self.send_window
        return (
            override.business_days or self.business_days,
            self.observe_public_holidays
            if override.observe_public_holidays is None
            else override.observe_public_holidays,
            set(self.quiet_days) | set(override.quiet_days),
            override.send_window or self.send_window,
        )


class Step(_Strict):
    name: str
    offset_days: int = Field(
        ge=EARLIEST_OFFSET_DAYS,
        le=LATEST_OFFSET_DAYS,
        description="days after the episode's due date (negative: before it)",
    )
    action: StepAction = StepAction.MESSAGE
    channels: list[Channel] = Field(
        default_factory=list, description="in order of preference; the next one is the fallback"
    )
    tone: Tone = Tone.FRIENDLY

    @model_validator(mode="after")
    def _channels_for_messages(self) -> Step:
        if self.action is StepAction.MESSAGE and not self.channels:
            raise ValueError(f"step '{self.name}' sends a message but names no channel")
        if self.action is StepAction.HANDOFF and self.channels:
            raise ValueError(f"step '{self.name}' hands off to a collector and sends nothing: remove its channels")
        if len(set(self.channels)) != len(self.channels):
            raise ValueError(f"step '{self.name}' repeats a channel")
        return self


class Ladder(_Strict):
    steps: list[Step] = Field(min_length=1)


Problem = tuple[tuple[int | str, ...], str]


def _ladder_problems(name: str, ladder: Ladder) -> list[Problem]:
    """Steps in increasing order of days, unique names, a hand-off only at the end — each at its line."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, step in enumerate(ladder.steps):
        where = ("ladders", name, "steps", index)
        if index and step.offset_days <= (earlier := ladder.steps[index - 1]).offset_days:
            problems.append(
                (
                    (*where, "offset_days"),
                    f"steps overlap: '{step.name}' (day {step.offset_days}) must come after "
                    f"'{earlier.name}' (day {earlier.offset_days})",
                )
            )
        if step.name in seen:
            problems.append(((*where, "name"), f"step name '{step.name}' is used twice in ladder '{name}'"))
        seen.add(step.name)
        if step.action is StepAction.HANDOFF and index != len(ladder.steps) - 1:
            problems.append(((*where, "action"), "a hand-off to a collector can only be the last step"))
        if step.action is StepAction.MESSAGE and step.tone is Tone.COURTESY and step.offset_days > 0:
            problems.append(
                ((*where, "tone"), "a courtesy note goes before the due date: offset_days must be 0 or less")
            )
        if step.action is StepAction.MESSAGE and step.tone in (Tone.FIRM, Tone.FINAL) and step.offset_days <= 0:
            problems.append(
                ((*where, "tone"), f"a {step.tone} reminder is for an overdue invoice: offset_days must be 1 or more")
            )
    return problems


class Assignment(_Strict):
    """The first assignment whose fields all match a customer's segment decides its ladder."""

    ladder: str
    risk_band: str | None = None
    aging_bucket: str | None = None
    value_tier: str | None = None
    channel: str | None = None

    def is_catch_all(self) -> bool:
        return all(v is None for v in (self.risk_band, self.aging_bucket, self.value_tier, self.channel))


class Sender(_Strict):
    name: str
    address: str
    contact_email: str


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Links(_Strict):
    payment_url: str = Field(description="base URL; the signed token is appended")
    unsubscribe_url: str
    expiry_days: int = Field(default=30, ge=1, le=365)

    @field_validator("payment_url", "unsubscribe_url")
    @classmethod
    def _web_link(cls, value: str) -> str:
        """Customers open these links: https only (http on loopback, for the demo's sandbox)."""
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
            raise ValueError(f"'{value}' is not an https:// link (http:// only on localhost, for the demo)")
        if any(c.isspace() or not c.isprintable() for c in value) or not host or parts.username is not None:
            raise ValueError(f"'{value}' is not a web address: write it as https://host/path")
        return value


class StatementSms(StrEnum):
    """What a customer reachable only by SMS gets on their billing cycle day."""

    SUMMARY = "summary"
    """A short summary: the balance open, what is overdue, the payment link."""
    NONE = "none"
    """No statement at all."""


class StatementRules(_Strict):
    """The statement of account sent on each customer's billing cycle day: by email (a table of the open
    invoices), else by SMS as ``sms`` says."""

    sms: StatementSms = StatementSms.NONE


class HandoffRules(_Strict):
    later_invoices: LaterInvoices = LaterInvoices.NEW_EPISODE


class Policy(_Strict):
    version: str
    segmentation: Segmentation
    contact: ContactRules = Field(default_factory=ContactRules)
    statements: StatementRules = Field(default_factory=StatementRules)
    handoff: HandoffRules = Field(default_factory=HandoffRules)
    ladders: dict[str, Ladder]
    assignments: list[Assignment]
    sender: Sender
    links: Links


def _reference_problems(policy: Policy) -> list[Problem]:
    """What a field alone cannot tell: ladders in order, names that refer to something defined elsewhere."""
    known = {
        "risk_band": set(policy.segmentation.risk_bands),
        "aging_bucket": set(policy.segmentation.aging_labels()),
        "value_tier": policy.segmentation.value_tier_names(),
        "channel": {*CHANNEL_NAMES, NO_CHANNEL},
    }
    problems = [problem for name, ladder in policy.ladders.items() for problem in _ladder_problems(name, ladder)]
    if STATEMENT_LADDER in policy.ladders:
        problems.append(
            (("ladders", STATEMENT_LADDER), f"'{STATEMENT_LADDER}' names the statements of account: rename the ladder")
        )
    for index, assignment in enumerate(policy.assignments):
        if assignment.ladder not in policy.ladders:
            problems.append(
                (
                    ("assignments", index, "ladder"),
                    f"unknown ladder '{assignment.ladder}'; known: {sorted(policy.ladders)}",
                )
            )
        for field, names in known.items():
            value = getattr(assignment, field)
            if value is not None and value not in names:
                problems.append(
                    (
                        ("assignments", index, field),
                        f"unknown {field.replace('_', ' ')} '{value}'; known: {sorted(names)}",
                    )
                )
    if not policy.assignments or not policy.assignments[-1].is_catch_all():
        problems.append((("assignments",), "the last assignment must match every segment (name only a ladder)"))
    return problems


def parse_policy(text: str, *, source: str) -> Policy:
    policy = parse_yaml_model(text, Policy, source=source)
    problems = _reference_problems(policy)
    if problems:
        raise located_problems(text, problems, source=source)
    return policy
