"""What becomes of an accepted message, and of the webhooks telling of it, under a :class:`FaultSpec`.

Pure: every draw comes from the random generator given, which the sandbox makes per message from the
spec's seed and the message's reminder key (:func:`message_random`), so that a seeded run gives every
message the same fate whatever order its sends arrive in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from reminder_pipeline.providers.sandbox.faults import FaultSpec

UNDELIVERED_CODES = (30003, 30005, 30006, 30007)
"""Unreachable handset, unknown handset, landline or unreachable carrier, filtered by the carrier."""
FAILED_CODE = 30036
"""Validity period expired: the message was never sent."""
SHUFFLE_TRIES = 20


class SmsStatus(StrEnum):
    """The statuses Twilio posts to a StatusCallback (never the initial queued/accepted)."""

    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"


class EmailEvent(StrEnum):
    PROCESSED = "processed"
    DEFERRED = "deferred"
    DELIVERED = "delivered"
    BOUNCE = "bounce"
    DROPPED = "dropped"
    OPEN = "open"
    CLICK = "click"
    SPAMREPORT = "spamreport"
    UNSUBSCRIBE = "unsubscribe"


class BounceType(StrEnum):
    BOUNCE = "bounce"
    BLOCKED = "blocked"


class ActivityStatus(StrEnum):
    """An email's status as the Email Activity API gives it."""

    PROCESSED = "processed"
    DELIVERED = "delivered"
    NOT_DELIVERED = "not_delivered"


@dataclass(frozen=True)
class SmsFate:
    statuses: tuple[SmsStatus, ...]
    """In the order they happened."""
    error_code: int | None = None

    @property
    def final(self) -> SmsStatus:
        return self.statuses[-1]


@dataclass(frozen=True)
class EmailFate:
    events: tuple[EmailEvent, ...]
    """In the order they happened."""
    bounce_type: BounceType | None = None

    @property
    def final(self) -> ActivityStatus:
        if EmailEvent.DELIVERED in self.events:
            return ActivityStatus.DELIVERED
        return ActivityStatus.NOT_DELIVERED


@dataclass(frozen=True)
class Post:
    """One webhook to send: the ``index``-th callback or event of the message, or a second copy of it."""

    index: int
    copy: bool = False


@dataclass(frozen=True)
class PostingPlan:
    posts: tuple[Post, ...]
    """In the order they will be sent."""
    lost: int
    duplicated: int


def message_random(seed: int | None, *identity: object) -> random.Random:
    """The generator of one message's fate: from the seed and ``identity`` when seeded, else unpredictable."""
    if seed is None:
        return random.Random()  # noqa: S311 (fault dice, not secrets)
    return random.Random(":".join(map(str, (seed, *identity))))  # noqa: S311


def sms_fate(spec: FaultSpec, rng: random.Random) -> SmsFate:
    draw = rng.random()
    if draw < spec.failed_rate:
        return SmsFate((SmsStatus.FAILED,), FAILED_CODE)
    if draw < spec.failed_rate + spec.undelivered_rate:
        return SmsFate((SmsStatus.SENT, SmsStatus.UNDELIVERED), rng.choice(UNDELIVERED_CODES))
    return SmsFate((SmsStatus.SENT, SmsStatus.DELIVERED))


def email_fate(spec: FaultSpec, rng: random.Random, *, clickable: bool) -> EmailFate:
    """``clickable``: the email has a link to click."""
    draw, deferred = rng.random(), rng.random() < spec.deferred_rate
    if draw < spec.dropped_rate:
        return EmailFate((EmailEvent.PROCESSED, EmailEvent.DROPPED))
    events = [EmailEvent.PROCESSED] + ([EmailEvent.DEFERRED] if deferred else [])
    if draw < spec.dropped_rate + spec.bounce_rate:
        return EmailFate((*events, EmailEvent.BOUNCE), BounceType.BOUNCE)
    if draw < spec.dropped_rate + spec.bounce_rate + spec.blocked_rate:
        return EmailFate((*events, EmailEvent.BOUNCE), BounceType.BLOCKED)
    events.append(EmailEvent.DELIVERED)
    opened = rng.random() < spec.open_rate
    clicked = clickable and rng.random() < spec.click_rate
    if opened or clicked:
        events.append(EmailEvent.OPEN)
    if clicked:
        events.append(EmailEvent.CLICK)
    if rng.random() < spec.spamreport_rate:
        events.append(EmailEvent.SPAMREPORT)
    if rng.random() < spec.unsubscribe_rate:
        events.append(EmailEvent.UNSUBSCRIBE)
    return EmailFate(tuple(events))


def posting_plan(spec: FaultSpec, rng: random.Random, count: int) -> PostingPlan:
    """Which of ``count`` webhooks are sent, which twice, and in what order."""
    posts: list[Post] = []
    lost = duplicated = 0
    for index in range(count):
        if rng.random() < spec.webhook_loss_rate:
            lost += 1
            continue
        posts.append(Post(index))
        if rng.random() < spec.webhook_duplicate_rate:
            duplicated += 1
            posts.append(Post(index, copy=True))
    if spec.callback_shuffle:
        posts = _out_of_order(posts, rng)
    return PostingPlan(tuple(posts), lost, duplicated)


def _out_of_order(posts: list[Post], rng: random.Random) -> list[Post]:
    """``posts`` shuffled so that at least one comes before one that happened earlier (when two differ)."""
    in_order = [p.index for p in posts]
    if len(set(in_order)) < 2:
        return posts
    shuffled = list(posts)
    for _ in range(SHUFFLE_TRIES):
        rng.shuffle(shuffled)
        if [p.index for p in shuffled] != sorted(in_order):
            return shuffled
    return sorted(posts, key=lambda p: p.index, reverse=True)
