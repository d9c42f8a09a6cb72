"""The dashboard's snapshot of the ledger: loaded once with aggregated SQL, then kept current.

Pages never scan the ledger: they filter the snapshot held in memory. A background thread looks
at the ledger every ``poll_seconds`` through four primary keys only (the inbox, delivery events,
replies, collector actions); when one moved it reloads just the customers those rows touch and
tells the live page (server-sent events). It reloads everything every ``full_seconds`` and when
the business day changes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date

import polars as pl
from sqlalchemy import Connection, func, select

from reminder_pipeline.dashboard.accounts import accounts
from reminder_pipeline.dashboard.figures import Figures, figures
from reminder_pipeline.dashboard.loading import Sources, load_sources, nothing
from reminder_pipeline.ledger.schema import (
    collector_actions,
    delivery_events,
    inbound_events,
    outbox,
    payments,
    replies,
)
from reminder_pipeline.ledger.store import Ledger

log = logging.getLogger("reminder_pipeline.dashboard")
PAYMENT_SOURCES = {"payment": "", "stripe": "stripe:"}
_FRAMES = [f.name for f in fields(Sources) if f.name != "day"]
"""Every frame of ``Sources``: a customer's reload replaces their rows in each."""


@dataclass
class Cursor:
    inbound: int = 0
    delivery: int = 0
    reply: int = 0
    action: int = 0


@dataclass(frozen=True)
class Change:
    version: int
    kinds: list[str]
    customers: list[str]


@dataclass
class State:
    sources: Sources
    accounts: pl.DataFrame
    figures: Figures
    version: int = 0
    loaded_at: float = 0.0
    changes: list[Change] = field(default_factory=list)


def _max(connection: Connection, column: object) -> int:
    return int(connection.execute(select(func.coalesce(func.max(column), 0))).scalar_one())  # type: ignore[call-overload]


class Snapshot:
    def __init__(
        self,
        ledger: Ledger,
        today: Callable[[], date],
        *,
        aging_edges: Sequence[int],
        promise_grace_days: int = 3,
        poll_seconds: float = 1.0,
        full_seconds: float = 300.0,
    ) -> None:
        self.ledger = ledger
        self.today = today
        self.aging_edges = list(aging_edges)
        """The policy's aging edges: the overview's aging buckets."""
        self.grace = promise_grace_days
        self.poll_seconds = poll_seconds
        self.full_seconds = full_seconds
        empty = nothing(today())
        self.state = State(empty, accounts(empty), figures(empty, self.aging_edges))
        self.cursor = Cursor()
        self._lock = threading.Lock()
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()

    # -- loading --------------------------------------------------------------------------------------------------
    def refresh_all(self) -> None:
        day = self.today()
        started = time.monotonic()
        with self.ledger.begin() as connection:
            cursor = self._positions(connection)
            sources = load_sources(connection, day)
        frame = accounts(sources, promise_grace_days=self.grace)
        shown = figures(sources, self.aging_edges)
        with self._lock:
            self.cursor = cursor
            self.state = State(sources, frame, shown, self.state.version + 1, time.monotonic(), self.state.changes)
        self._publish(Change(self.state.version, ["reload"], []))
        log.info("dashboard snapshot loaded: %d customers owing, %.1f s", frame.height, time.monotonic() - started)

    def refresh_customers(self, customer_ids: list[str], kinds: list[str]) -> None:
        """Reload what the ledger holds about ``customer_ids`` and patch the snapshot."""
        state = self.state
        with self.ledger.begin() as connection:
            fresh = load_sources(connection, state.sources.day, customer_ids)
        ids = pl.Series(customer_ids, dtype=pl.String).implode()

        def patched(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
            return pl.concat([old.filter(~pl.col("customer_id").is_in(ids)), new])

        merged = Sources(
            day=state.sources.day,
            **{name: patched(getattr(state.sources, name), getattr(fresh, name)) for name in _FRAMES},
        )
        frame = patched(state.accounts, accounts(fresh, promise_grace_days=self.grace))
        shown = figures(merged, self.aging_edges)
        with self._lock:
            self.state = State(merged, frame, shown, state.version + 1, state.loaded_at, state.changes)
        self._publish(Change(self.state.version, kinds, sorted(customer_ids)))

    # -- watching ---------------------------------------------------------------------------------------------------
    def _positions(self, connection: Connection) -> Cursor:
        return Cursor(
            inbound=_max(connection, inbound_events.c.event_id),
            delivery=_max(connection, delivery_events.c.delivery_event_id),
            reply=_max(connection, replies.c.reply_id),
            action=_max(connection, collector_actions.c.action_id),
        )

    def _touched(self, connection: Connection, old: Cursor, new: Cursor) -> tuple[set[str], list[str], int]:
        """Customers the rows since ``old`` are about, what kinds of change, and how far the inbox is read."""
        customers: set[str] = set()
        kinds: list[str] = []
        inbound_done = new.inbound
        if new.inbound > old.inbound:
            rows = connection.execute(
                select(
                    inbound_events.c.event_id,
                    inbound_events.c.source,
                    inbound_events.c.dedupe_key,
                    inbound_events.c.status,
                )
                .where(inbound_events.c.event_id > old.inbound)
                .order_by(inbound_events.c.event_id)
            ).all()
            waiting = [r.event_id for r in rows if r.status == "received"]
            if waiting:
                inbound_done = min(waiting) - 1
            keys = [
                PAYMENT_SOURCES[r.source] + r.dedupe_key
                for r in rows
                if r.source in PAYMENT_SOURCES and r.status != "received"
            ]
            if keys:
                found = connection.execute(select(payments.c.customer_id).where(payments.c.payment_id.in_(keys)))
                paid = {str(r[0]) for r in found}
                customers |= paid
                if paid:
                    kinds.append("payment")
        if new.delivery > old.delivery:
            query = (
                select(outbox.c.customer_id)
                .select_from(delivery_events.join(outbox, outbox.c.outbox_id == delivery_events.c.outbox_id))
                .where(delivery_events.c.delivery_event_id > old.delivery)
            )
            customers |= {str(r[0]) for r in connection.execute(query)}
            kinds.append("delivery")
        if new.reply > old.reply:
            query = select(replies.c.customer_id).where(
                replies.c.reply_id > old.reply, replies.c.customer_id.is_not(None)
            )
            customers |= {str(r[0]) for r in connection.execute(query)}
            kinds.append("reply")
        if new.action > old.action:
            query = select(collector_actions.c.customer_id).where(collector_actions.c.action_id > old.action)
            customers |= {str(r[0]) for r in connection.execute(query)}
            kinds.append("action")
        return customers, kinds, inbound_done

    def poll(self) -> bool:
        """Look for new rows once; True when the snapshot changed."""
        if self.today() != self.state.sources.day or time.monotonic() - self.state.loaded_at > self.full_seconds:
            self.refresh_all()
            return True
        old = self.cursor
        with self.ledger.begin() as connection:
            new = self._positions(connection)
            if new == old:
                return False
            customers, kinds, inbound_done = self._touched(connection, old, new)
        new.inbound = inbound_done
        self.cursor = new
        if customers:
            self.refresh_customers(sorted(customers), kinds)
        return bool(customers)

    def _run(self) -> None:
        try:
            self.refresh_all()
        except Exception:
            log.exception("the dashboard snapshot could not be loaded")
        self.ready.set()
        while not self._stop.wait(self.poll_seconds):
            try:
                self.poll()
            except Exception:
                log.exception("the dashboard snapshot could not be refreshed; trying again")

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="dashboard-snapshot", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)

    # -- live updates -----------------------------------------------------------------------------------------------
    def _publish(self, change: Change) -> None:
        with self._changed:
            self.state.changes = [*self.state.changes[-99:], change]
            self._changed.notify_all()

    def wait_for_change(self, after: int, timeout: float) -> list[Change]:
        """Changes newer than version ``after``, waiting up to ``timeout`` seconds for one."""
        with self._changed:
            self._changed.wait_for(lambda: self.state.version > after or self._stop.is_set(), timeout=timeout)
            return [c for c in self.state.changes if c.version > after]
