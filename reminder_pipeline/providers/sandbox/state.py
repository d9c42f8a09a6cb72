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
from reminder_pipeline.providers.sandbox.store import MessageStore
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
        self.store = MessageStore(Path(config.log_path) if config.log_path is not None else None)

    def close(self) -> None:
        self.stopping.set()
        self.store.close()
