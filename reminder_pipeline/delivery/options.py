"""What a delivery run is told (options) and tells back (its report), and the error that stops it."""

from __future__ import annotations

import os
import socket
import uuid
from collections import Counter
from dataclasses import dataclass, field


class ProviderConfigurationError(RuntimeError):
    """The provider refused our credentials or sender: nothing more can be sent until an operator fixes it."""


def worker_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class DeliveryOptions:
    batch_size: int = 500
    max_batches: int | None = None
    """None: until nothing is due."""
    lease_seconds: float = 300.0
    """How long a claimed row stays ``sending`` before another run treats its outcome as unknown."""
    promise_grace_days: int = 3
    sender_name: str | None = None
    seed: int | None = None


@dataclass
class DeliveryReport:
    provider: str
    channel: str
    sent: int = 0
    retried: int = 0
    unknown: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    """Failed for good, per provider code."""
    cancelled: Counter[str] = field(default_factory=Counter)
    """Not sent at the last look, per reason."""
    reconciled: Counter[str] = field(default_factory=Counter)
    """Unknown outcomes settled: sent, retry, unresolved, still unknown."""
    fallbacks: int = 0
    collector_tasks: int = 0
    batches: int = 0
    configuration_error: str | None = None
    sent_ids: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {
            "provider": self.provider,
            "channel": self.channel,
            "sent": self.sent,
            "retried": self.retried,
            "unknown": self.unknown,
            "failed": sum(self.failed.values()),
            "failed_by_code": dict(self.failed),
            "cancelled_at_last_look": dict(self.cancelled),
            "reconciled": dict(self.reconciled),
            "fallbacks": self.fallbacks,
            "collector_tasks": self.collector_tasks,
            "batches": self.batches,
        }
