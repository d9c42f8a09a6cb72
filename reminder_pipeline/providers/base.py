"""What delivery needs from a provider, whichever it is: send one message, and look for one it may have.

A send ends in one of four ways (:class:`SendOutcome`), and delivery acts on nothing else:

- ``accepted``: the provider took it; its id is kept on the outbox row.
- ``retry``: the provider certainly did not take it (429 rate limit, 5xx, a refused connection):
  the same reminder may be tried again, no sooner than ``retry_after``.
- ``rejected``: the provider refused it for good (invalid or unroutable recipient, an opted-out
  number, a refused address, our own credentials): never tried again as it is; ``contact_problem``
  says what to record about the customer's contact.
- ``unknown``: the request may or may not have reached the provider (a timeout, a dropped
  connection): never resent blindly; :meth:`Provider.lookup` reconciles it.

Nothing here carries a recipient's address or name into ``detail``: it is logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from reminder_pipeline.core.canonical import Channel


class SendOutcome(StrEnum):
    ACCEPTED = "accepted"
    RETRY = "retry"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


class ContactProblem(StrEnum):
    """What a refusal says about the customer's contact for the channel."""

    INVALID_ADDRESS = "invalid_address"
    """The address or number cannot receive messages (invalid, unroutable, a landline for SMS, bounced)."""
    OPTED_OUT = "opted_out"
    """The recipient opted out at the provider (Twilio 21610, a SendGrid unsubscribe)."""


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered reminder, as a provider receives it."""

    reminder_key: str
    """The outbox row's key: SendGrid ``custom_args.reminder_key``, Twilio's ``StatusCallback`` query."""
    channel: Channel
    to: str
    body_text: str
    subject: str | None = None
    body_html: str | None = None
    unsubscribe_url: str | None = None
    """Email: the List-Unsubscribe target (RFC 8058 one-click)."""
    categories: tuple[str, ...] = ()
    """Email: SendGrid categories (e.g. the ladder step and tone) for the provider's statistics."""
    from_name: str | None = None
    """Email: the sender's display name for this message; the provider's configured name when None."""


@dataclass(frozen=True)
class SendResult:
    outcome: SendOutcome
    provider_id: str | None = None
    """SendGrid ``X-Message-Id``, Twilio ``sid`` — when accepted (or found by a lookup)."""
    http_status: int | None = None
    error_code: str | None = None
    """The provider's own code (Twilio ``21211``, SendGrid's HTTP status as text), for operators."""
    detail: str = ""
    """Why, in words, without personal data."""
    retry_after: float | None = None
    """Seconds the provider asked us to wait (``Retry-After``, ``X-RateLimit-Reset``), when it did."""
    contact_problem: ContactProblem | None = None
    provider_status: str | None = None
    """The provider's status of an accepted message (``queued``, ``accepted``) when it gives one."""


@dataclass(frozen=True)
class LookupResult:
    """What a provider says of a message whose send had an unknown outcome."""

    found: bool | None
    """True: it has the message; False: it has none (safe to send again); None: it cannot tell yet."""
    provider_id: str | None = None
    provider_status: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class ProviderLimits:
    """How hard delivery may push a provider: requests in flight and messages a second."""

    concurrency: int = 16
    per_second: float = 100.0
    timeout_seconds: float = 10.0
    lookup_delay_seconds: float = 0.0
    """How long after a send a lookup's "not found" can be trusted (a provider's search may lag behind)."""


class Provider(Protocol):
    """A provider client for one channel (the real one, or the same code pointed at the sandbox)."""

    name: str
    channel: Channel
    limits: ProviderLimits

    def send(self, message: OutgoingMessage) -> SendResult:
        """Hand one message to the provider; never raises for what the provider or the network did."""
        ...

    def lookup(self, message: OutgoingMessage, since: datetime) -> LookupResult:
        """Whether the provider received ``message`` (sent to its recipient since ``since``)."""
        ...


CONFIGURATION_ERROR_CODES = frozenset({"401", "403", "20003", "21212", "21606", "21611"})
"""Refusals that are about our account, not the message: SendGrid 401 (bad key) and 403 (key without the
permission, or an unverified sender); Twilio 20003 (authentication), 21212 (invalid From), 21606 (From not
ours or not SMS-capable), 21611 (From's queue full)."""


def is_configuration_error(result: SendResult) -> bool:
    """Whether a refusal says the provider settings are wrong, so every further send would fail alike."""
    return result.outcome is SendOutcome.REJECTED and result.error_code in CONFIGURATION_ERROR_CODES
