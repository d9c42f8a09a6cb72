"""The simulation's own bookkeeping: what the pipeline's runs reported, added up.

This is the pipeline's word for what happened (its plans, messages, delivery reports, lookups) and the
simulation's (faults struck, payments and replies made). The counters that prove the promises come
from :mod:`reminder_pipeline.simulation.audit` instead, which reads only the ledger and the provider's
message log; the two are printed side by side.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from reminder_pipeline.core.channels import CHANNEL_NAMES
from reminder_pipeline.ingestion.report import IngestReport


def _add(total: Counter[str], summary: dict[str, object], names: tuple[str, ...]) -> None:
    for name in names:
        value = summary.get(name, 0)
        if isinstance(value, int):
            total[name] += value


@dataclass
class Bookkeeping:
    plan: Counter[str] = field(default_factory=Counter)
    messages: Counter[str] = field(default_factory=Counter)
    statements: Counter[str] = field(default_factory=Counter)
    delivery: Counter[str] = field(default_factory=Counter)
    reconciled: Counter[str] = field(default_factory=Counter)
    cancelled_at_last_look: Counter[str] = field(default_factory=Counter)
    lookups: Counter[str] = field(default_factory=Counter)
    ingestion: Counter[str] = field(default_factory=Counter)
    step_retries: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    days: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)
    """Real time spent per kind of step."""
    training: str = "rule score (no model trained)"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            with self._lock:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.monotonic() - started

    def retried(self, step: str) -> None:
        with self._lock:
            self.step_retries[step] += 1

    def add_ingest(self, reports: list[IngestReport]) -> None:
        for report in reports:
            self.ingestion["rows_in"] += report.rows_in
            self.ingestion["accepted"] += report.accepted
            self.ingestion["quarantined"] += report.quarantined
            self.ingestion["batches"] += 1

    def add_plan(self, summary: dict[str, object]) -> None:
        _add(self.plan, summary, ("send", "handoff", "skip", "outbox_added", "cancelled", "expired"))

    def add_statements(self, summary: dict[str, object]) -> None:
        _add(self.statements, summary, ("owing", "planned", "outbox_added", "courtesy_folded", "rendered", "held"))
        self.statements["cycle_days"] += 1 if summary.get("owing") else 0

    def add_messages(self, summary: dict[str, object]) -> None:
        _add(self.messages, summary, ("rendered", "held", "cancelled", *CHANNEL_NAMES))

    def add_delivery(self, summary: dict[str, object]) -> None:
        _add(
            self.delivery, summary, ("sent", "retried", "unknown", "failed", "fallbacks", "collector_tasks", "batches")
        )
        for source, target in (
            ("reconciled", self.reconciled),
            ("cancelled_at_last_look", self.cancelled_at_last_look),
        ):
            values = summary.get(source)
            if isinstance(values, dict):
                target.update({str(k): int(v) for k, v in values.items()})

    def add_lookup(self, summary: dict[str, object]) -> None:
        _add(self.lookups, summary, ("asked", "still_open", "missing", "cannot_tell"))
        settled = summary.get("settled")
        if isinstance(settled, dict):
            self.lookups["settled"] += sum(int(v) for v in settled.values())

    def to_dict(self, extra: dict[str, Any]) -> dict[str, Any]:
        """The pipeline's own counts: ``sent`` is what its delivery runs reported sent, plus what
        reconciliation found the provider had (a killed process's sends are only known that way)."""
        return {
            "due": self.plan["send"] + self.statements["planned"],
            "sent": self.delivery["sent"] + self.reconciled["sent"],
            "plan": dict(self.plan),
            "messages": dict(self.messages),
            "statements": dict(self.statements),
            "delivery": dict(self.delivery),
            "reconciled": dict(self.reconciled),
            "cancelled_at_last_look": dict(self.cancelled_at_last_look),
            "status_lookups": dict(self.lookups),
            "ingestion": dict(self.ingestion),
            "step_retries": dict(self.step_retries),
            "faults": dict(self.faults),
            "days": dict(self.days),
            "risk_model": self.training,
            "seconds_by_step": {k: round(v, 1) for k, v in sorted(self.seconds.items())},
            **extra,
        }
