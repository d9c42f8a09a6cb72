"""What one running sandbox holds: its configuration, credentials, messages, clock, faults and counters."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from reminder_pipeline.providers.sandbox.clock import SandboxClock
from reminder_pipeline.providers.sandbox.faults import FaultSpec
from reminder_pipeline.providers.sandbox.injector import FaultInjector, ProviderName
from reminder_pipeline.providers.sandbox.opt_outs import OptOuts
from reminder_pipeline.providers.sandbox.signing import KEY_FILE_NAME, EventWebhookKey
from reminder_pipeline.providers.sandbox.store import MessageStore
from reminder_pipeline.providers.sandbox.webhooks import WebhookPolicy, Webhooks, WebhookUrl
from reminder_pipeline.providers.settings import SandboxCredentials, sandbox_credentials

MAX_EMAIL_BYTES = 30 * 1024 * 1024
"""SendGrid's limit on a whole mail/send request; larger ones answer 413."""


@dataclass(frozen=True)
class SandboxConfig:
    port: int = 0
    """0: any free port."""
    host: str = "127.0.0.1"
    credentials: SandboxCredentials | None = None
    """None: the provider settings in the environment, else :data:`DEMO_CREDENTIALS`."""
    faults: str | FaultSpec = ""
    log_path: Path | str | None = None
    """The journal of accepted messages, reloaded at start; None keeps them in memory only."""
    max_email_bytes: int = MAX_EMAIL_BYTES
    sendgrid_events_url: str | None = None
    """Where SendGrid event batches go (settable at run time); None: nowhere."""
    twilio_inbound_url: str | None = None
    """The messaging webhook of the sandbox's numbers, for ``POST /sandbox/inbound/sms``."""
    sendgrid_inbound_url: str | None = None
    """The Inbound Parse URL (may carry ``user:password@``), for ``POST /sandbox/inbound/email``."""
    webhook_key_path: Path | str | None = None
    """The event webhook's signing key; None: next to the journal, or in memory without one."""
    webhook_retries: int = 3
    webhook_backoff_seconds: float = 0.5
    webhook_timeout_seconds: float = 10.0
    event_batch_seconds: float = 0.05
    """How long events wait to leave together (SendGrid waits up to 30 s)."""
    webhook_workers: int = 4

    def key_path(self) -> Path | None:
        if self.webhook_key_path is not None:
            return Path(self.webhook_key_path)
        return Path(self.log_path).parent / KEY_FILE_NAME if self.log_path is not None else None

    def webhook_policy(self) -> WebhookPolicy:
        return WebhookPolicy(
            retries=self.webhook_retries,
            backoff_seconds=self.webhook_backoff_seconds,
            timeout_seconds=self.webhook_timeout_seconds,
            batch_seconds=self.event_batch_seconds,
            workers=self.webhook_workers,
        )


class Outcome(StrEnum):
    """How the sandbox answered a provider request, for ``GET /sandbox/stats``."""

    REQUESTS = "requests"
    ACCEPTED = "accepted"
    """Stored (a held answer counts here and under ``timed_out``)."""
    TIMED_OUT = "timed_out"
    REJECTED = "rejected"
    UNAUTHORIZED = "unauthorized"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    INJECTED_ERROR = "injected_error"
    DROPPED = "dropped"
    LOOKUPS = "lookups"


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[ProviderName, Outcome]] = Counter()

    def count(self, provider: ProviderName, outcome: Outcome) -> None:
        with self._lock:
            self._counts[(provider, outcome)] += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {p.value: {o.value: self._counts[(p, o)] for o in Outcome} for p in ProviderName}

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class SandboxState:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.credentials = config.credentials or sandbox_credentials()
        spec = config.faults if isinstance(config.faults, FaultSpec) else FaultSpec.parse(config.faults)
        self.injector = FaultInjector(spec)
        self.clock = SandboxClock()
        self.stats = Stats()
        self.stopping = threading.Event()
        """Set when the server stops: held answers and latencies end at once."""
        self.opt_outs = OptOuts()
        urls = {
            WebhookUrl.SENDGRID_EVENTS: config.sendgrid_events_url,
            WebhookUrl.TWILIO_INBOUND: config.twilio_inbound_url,
            WebhookUrl.SENDGRID_INBOUND: config.sendgrid_inbound_url,
        }
        key = EventWebhookKey.load_or_create(config.key_path())
        self.webhooks = Webhooks(self.credentials, self.clock, key, urls, config.webhook_policy())
        self.store = MessageStore(Path(config.log_path) if config.log_path is not None else None)

    def close(self) -> None:
        self.stopping.set()
        self.webhooks.close()
        self.store.close()
