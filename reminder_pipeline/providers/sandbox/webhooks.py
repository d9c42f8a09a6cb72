"""The webhooks the sandbox sends after a send was accepted: Twilio status callbacks, SendGrid event batches.

At the accept, each message's fate is drawn (:mod:`fates`), its final status written on its record,
and its callbacks or events prepared and signed. They then go from background threads, never
holding up the send's answer: a message's webhooks one after another (``callback_delay_ms`` apart,
reordered by ``callback_shuffle``, some lost or sent twice), each retried with a doubling backoff
while the receiver answers non-2xx or cannot be reached, then given up. A receiver that is down
costs the sandbox nothing but a few refused connections.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from reminder_pipeline.providers.sandbox import sendgrid_events, twilio_webhooks
from reminder_pipeline.providers.sandbox.clock import SandboxClock
from reminder_pipeline.providers.sandbox.fates import email_fate, message_random, posting_plan, sms_fate
from reminder_pipeline.providers.sandbox.faults import FaultSpec
from reminder_pipeline.providers.sandbox.poster import Poster, WebhookAnswer, WebhookRequest, valid_url
from reminder_pipeline.providers.sandbox.poster import without_credentials as shown_url
from reminder_pipeline.providers.sandbox.scheduler import Scheduler
from reminder_pipeline.providers.sandbox.signing import EventWebhookKey
from reminder_pipeline.providers.sandbox.store import Record
from reminder_pipeline.providers.settings import SandboxCredentials

MAX_PENDING = 200_000
"""Jobs waiting at most; beyond, webhooks are dropped (counted as ``overflow``), not memory."""
MAX_BATCH_EVENTS = 1000


class WebhookKind(StrEnum):
    TWILIO_STATUS = "twilio_status"
    SENDGRID_EVENTS = "sendgrid_events"
    TWILIO_INBOUND = "twilio_inbound"
    SENDGRID_INBOUND = "sendgrid_inbound"


class WebhookOutcome(StrEnum):
    """Counted per kind for ``GET /sandbox/webhooks``."""

    POSTED = "posted"
    """HTTP attempts, retries included."""
    ACKNOWLEDGED = "acknowledged"
    REFUSED = "refused"
    """Answered, but not 2xx."""
    UNREACHABLE = "unreachable"
    RETRIED = "retried"
    GAVE_UP = "gave_up"
    LOST = "lost"
    DUPLICATED = "duplicated"
    EVENTS = "events"
    """SendGrid events handed to a batch."""
    NO_URL = "no_url"
    OVERFLOW = "overflow"


class WebhookUrl(StrEnum):
    """The receivers configured on the sandbox (a Twilio status callback's URL comes with its message)."""

    SENDGRID_EVENTS = "sendgrid_events_url"
    TWILIO_INBOUND = "twilio_inbound_url"
    SENDGRID_INBOUND = "sendgrid_inbound_url"


Step = Callable[[Callable[[], None]], None]
"""One webhook of a message: does its part, then calls what it is given when done."""


@dataclass(frozen=True)
class WebhookPolicy:
    retries: int = 3
    backoff_seconds: float = 0.5
    """Before the first retry; doubled for each one after."""
    timeout_seconds: float = 10.0
    batch_seconds: float = 0.05
    workers: int = 4


@dataclass(frozen=True)
class Chain:
    """A message's webhooks in the order they will be sent; ``delay_seconds`` before each."""

    kind: WebhookKind
    steps: tuple[Step, ...] = ()
    delay_seconds: float = 0.0
    lost: int = 0
    duplicated: int = 0


class Webhooks:
    def __init__(
        self,
        credentials: SandboxCredentials,
        clock: SandboxClock,
        key: EventWebhookKey,
        urls: Mapping[WebhookUrl, str | None],
        policy: WebhookPolicy = WebhookPolicy(),
    ) -> None:
        self.credentials = credentials
        self.clock = clock
        self.key = key
        self.policy = policy
        self.poster = Poster(policy.timeout_seconds)
        self.scheduler = Scheduler(policy.workers, MAX_PENDING)
        self.batcher = sendgrid_events.EventBatcher(
            policy.batch_seconds, MAX_BATCH_EVENTS, self.scheduler.after, self._post_batch
        )
        self._lock = threading.Lock()
        self._counts: Counter[tuple[WebhookKind, WebhookOutcome]] = Counter()
        self._seen: Counter[tuple[object, ...]] = Counter()
        self._urls: dict[WebhookUrl, str | None] = dict.fromkeys(WebhookUrl)
        self.set_urls(urls)
        self._closing = False

    def url(self, name: WebhookUrl) -> str | None:
        with self._lock:
            return self._urls[name]

    def set_urls(self, changes: Mapping[WebhookUrl, str | None]) -> None:
        """Point receivers elsewhere (None: nowhere); ValueError, and nothing changed, for a URL not http(s)."""
        for name, url in changes.items():
            if url is not None and not valid_url(url):
                raise ValueError(f"{name.value} must be an http(s) URL with a host, e.g. http://127.0.0.1:8000/x")
        with self._lock:
            self._urls.update(changes)

    def count(self, kind: WebhookKind, outcome: WebhookOutcome, n: int = 1) -> None:
        if n:
            with self._lock:
                self._counts[(kind, outcome)] += n

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            counts = {k.value: {o.value: self._counts[(k, o)] for o in WebhookOutcome} for k in WebhookKind}
            urls = {name.value: shown_url(url) if url else None for name, url in self._urls.items()}
        pending = self.scheduler.pending() + self.batcher.waiting()
        return {"urls": urls, "public_key": self.key.public_key, "pending": pending, "counts": counts}

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()

    def restart_dice(self) -> None:
        """Forget which reminder keys came before: the next message of each draws as the first did."""
        with self._lock:
            self._seen.clear()

    def wait_until_idle(self, timeout_seconds: float) -> bool:
        """Whether every webhook due was sent (or given up) within ``timeout_seconds``."""
        return self.scheduler.wait_until_idle(timeout_seconds, lambda: self.batcher.waiting() > 0)

    def _random(self, spec: FaultSpec, channel: str, record: Record) -> random.Random:
        """The message's dice: from the seed, its reminder key and recipient, and how often they came before."""
        key = record.get("reminder_key")
        identity: tuple[object, ...] = (channel, key, record["to"]) if key else (channel, "#")
        with self._lock:
            occurrence = self._seen[identity]
            self._seen[identity] += 1
        return message_random(spec.seed, *identity, occurrence)

    def sms_accepted(self, spec: FaultSpec, record: Record) -> Chain:
        """Draw the SMS's fate onto ``record`` (before it is stored); its status callbacks, to start after."""
        rng = self._random(spec, "sms", record)
        fate = sms_fate(spec, rng)
        record |= {
            "status": fate.final.value,
            "error_code": fate.error_code,
            "events": [s.value for s in fate.statuses],
        }
        if not record.get("status_callback"):
            return Chain(WebhookKind.TWILIO_STATUS)
        token = self.credentials.twilio_auth_token
        requests = twilio_webhooks.status_callbacks(token, record, fate.statuses, fate.error_code, _accepted(record))
        plan = posting_plan(spec, rng, len(requests))
        steps = tuple(self._posting(WebhookKind.TWILIO_STATUS, requests[post.index]) for post in plan.posts)
        return Chain(WebhookKind.TWILIO_STATUS, steps, spec.callback_delay_ms / 1000, plan.lost, plan.duplicated)

    def email_accepted(self, spec: FaultSpec, record: Record) -> Chain:
        """Draw the email's fate onto ``record`` (before it is stored); its events, to start after."""
        rng = self._random(spec, "email", record)
        fate = email_fate(spec, rng, clickable=sendgrid_events.first_link(record) is not None)
        record |= {
            "status": fate.final.value,
            "events": [e.value for e in fate.events],
            "bounce_type": fate.bounce_type.value if fate.bounce_type else None,
        }
        events = sendgrid_events.events_for(record, fate, _accepted(record))
        if self.url(WebhookUrl.SENDGRID_EVENTS) is None:
            self.count(WebhookKind.SENDGRID_EVENTS, WebhookOutcome.NO_URL, len(events))
            return Chain(WebhookKind.SENDGRID_EVENTS)
        plan = posting_plan(spec, rng, len(events))
        steps = tuple(self._batching(events[post.index], later=post.copy) for post in plan.posts)
        return Chain(WebhookKind.SENDGRID_EVENTS, steps, spec.callback_delay_ms / 1000, plan.lost, plan.duplicated)

    def start(self, chain: Chain) -> None:
        """Send ``chain``'s webhooks from the background threads (call once its message is stored)."""
        self.count(chain.kind, WebhookOutcome.LOST, chain.lost)
        self.count(chain.kind, WebhookOutcome.DUPLICATED, chain.duplicated)
        self._next(chain, 0)

    def _next(self, chain: Chain, index: int) -> None:
        if index >= len(chain.steps):
            return
        step = chain.steps[index]
        if not self.scheduler.after(chain.delay_seconds, lambda: step(lambda: self._next(chain, index + 1))):
            self.count(chain.kind, WebhookOutcome.OVERFLOW, len(chain.steps) - index)

    def _posting(self, kind: WebhookKind, request: WebhookRequest) -> Step:
        return lambda done: self.deliver(kind, lambda: request, done)

    def _batching(self, event: sendgrid_events.Event, *, later: bool) -> Step:
        def step(done: Callable[[], None]) -> None:
            self.batcher.add(event, later=later)
            done()

        return step

    def _post_batch(self, events: list[sendgrid_events.Event]) -> None:
        url = self.url(WebhookUrl.SENDGRID_EVENTS)
        if url is None:
            self.count(WebhookKind.SENDGRID_EVENTS, WebhookOutcome.NO_URL, len(events))
            return
        self.count(WebhookKind.SENDGRID_EVENTS, WebhookOutcome.EVENTS, len(events))

        def signed_now() -> WebhookRequest:  # each attempt signed when it leaves, as SendGrid's are
            return sendgrid_events.signed_batch(self.key, url, events, int(self.clock.now().timestamp()))

        self.deliver(WebhookKind.SENDGRID_EVENTS, signed_now, lambda: None)

    def post_once(self, kind: WebhookKind, request: WebhookRequest) -> WebhookAnswer:
        """One attempt, answered to the caller (an injected inbound message), counted."""
        answer = self.poster.post(request)
        self._count_answer(kind, answer)
        return answer

    def _count_answer(self, kind: WebhookKind, answer: WebhookAnswer) -> None:
        self.count(kind, WebhookOutcome.POSTED)
        if answer.ok:
            self.count(kind, WebhookOutcome.ACKNOWLEDGED)
        else:
            self.count(kind, WebhookOutcome.REFUSED if answer.status is not None else WebhookOutcome.UNREACHABLE)

    def deliver(
        self, kind: WebhookKind, request: Callable[[], WebhookRequest], done: Callable[[], None], attempt: int = 0
    ) -> None:
        """Post ``request()``; on failure try again later (up to the policy's retries); ``done`` once settled."""
        answer = self.poster.post(request())
        self._count_answer(kind, answer)
        if answer.ok:
            done()
            return
        if attempt >= self.policy.retries or self._closing:
            self.count(kind, WebhookOutcome.GAVE_UP)
            done()
            return
        self.count(kind, WebhookOutcome.RETRIED)
        wait = self.policy.backoff_seconds * 2**attempt
        if not self.scheduler.after(wait, lambda: self.deliver(kind, request, done, attempt + 1)):
            self.count(kind, WebhookOutcome.GAVE_UP)

    def close(self) -> None:
        """Stop sending: posts in flight are cut, webhooks not yet sent are forgotten."""
        self._closing = True
        self.poster.abort()
        self.scheduler.stop()


def _accepted(record: Record) -> datetime:
    return datetime.fromisoformat(record["accepted_at"])
