"""The day loop: each simulated day's steps in time order, with the world answering what it receives.

After every delivery run the messages the sandbox accepted are read from its log; each one that was
delivered reaches its customer, whose answer (payments moved earlier, a promise, a dispute, STOP) the
world plans. At each moment customers act, the payments made by then are posted to the payment
webhook and the replies due are sent through the sandbox. During an outage nothing runs: payments and
replies wait at the processor and the providers, and the day after it the pipeline catches up —
every missed day backfilled (ingested, and planned as of now, which sends nothing for a day whose
window is over), then the live day planned as usual.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.ledger.schema import outbox
from reminder_pipeline.simulation.accounts import Accounts, Reached
from reminder_pipeline.simulation.clock import DELIVERY_TIMES, Moment, SimClock, Step, day_moments, is_business_day
from reminder_pipeline.simulation.faults import FaultSchedule
from reminder_pipeline.simulation.pipeline import Pipeline, kill_delivery_process, terminate_connections_later
from reminder_pipeline.simulation.sandbox_process import Journal, SandboxProcess
from reminder_pipeline.simulation.webhooks import PaymentPoster, ReplySender

WEBHOOK_WAIT_SECONDS = 120.0
RESTART_DELAY_SECONDS = 0.2
KILLED_CHANNEL = "email"
KILL_WHEN_DUE = 8
"""A run is killed only when this many emails are due: enough that the kill lands mid-batch."""


@dataclass
class Faults:
    schedule: FaultSchedule
    kill_environment: dict[str, str]
    restart_url: str | None
    """The PostgreSQL ledger whose connections a restart terminates; None on SQLite."""
    policy_path: str | None = None
    """The policy file a killed delivery process is given (None: the shipped one), the simulation's own."""


@dataclass
class DayLoop:
    pipeline: Pipeline
    accounts: Accounts
    sandbox: SandboxProcess
    journal: Journal
    poster: PaymentPoster
    replies: ReplySender
    clock: SimClock
    faults: Faults
    say: Callable[[str], None]
    kills_done: int = 0
    last_plan_at: datetime | None = None
    last_delivery_at: datetime | None = None
    today: dict[str, int] = field(default_factory=dict)

    @property
    def books(self):  # type: ignore[no-untyped-def]
        return self.pipeline.books

    def run(self, days: list[date]) -> None:
        for number, day in enumerate(days, start=1):
            self.today = {"sent": 0, "reached": 0, "payments": 0}
            for moment in day_moments(day):
                self.clock.set(moment.instant)
                self._step(moment)
            self.books.days["simulated"] += 1
            self.say(self._progress(number, len(days), day))

    def _progress(self, number: int, total: int, day: date) -> str:
        width = 30
        done = round(width * number / total)
        state = "outage" if self.faults.schedule.down(day) else ("" if is_business_day(day) else "weekend")
        return (
            f"[{'#' * done}{'.' * (width - done)}] day {number}/{total} {day.isoformat()} {day:%a}"
            f"{' (' + state + ')' if state else ''}: {self.today['sent']} sent, {self.today['reached']} reached, "
            f"{self.today['payments']} paid, {len(self.poster.pending)} payments waiting"
        )

    def _step(self, moment: Moment) -> None:
        down = self.faults.schedule.down(moment.day)
        if moment.step is Step.CUSTOMERS:
            self._customers_act(moment.instant, deliver=not down)
        elif down:
            return
        elif moment.step is Step.DAILY_RUN:
            self._daily_run(moment)
        elif moment.step is Step.STATEMENTS:
            self._statements(moment)
        elif moment.step in (Step.DELIVERY, Step.SECOND_DELIVERY):
            self._deliver(moment)
        elif moment.step is Step.STATUS:
            self.pipeline.status()
            self._wait_for_webhooks()

    def _customers_act(self, instant: datetime, *, deliver: bool) -> None:
        payments = self.accounts.payments_until(instant)
        self.today["payments"] += len(payments)
        self.poster.add(payments)
        if deliver:
            with self.books.timed("payments_posted"):
                self.poster.flush()
            with self.books.timed("replies_sent"):
                self.replies.flush(instant)
            self._wait_for_webhooks()

    def _daily_run(self, moment: Moment) -> None:
        now = moment.instant
        if moment.day == self.faults.schedule.recovery_day:
            self._customers_act(now, deliver=True)
            for missed in self.faults.schedule.outage:
                self.pipeline.ingest(missed)
                if is_business_day(missed):
                    self.pipeline.plan(missed, self.clock())
                self.books.days["backfilled"] += 1
        self.pipeline.ingest(moment.day)
        if is_business_day(moment.day):
            self.pipeline.plan(moment.day, self.clock())
            self.last_plan_at = now

    def _statements(self, moment: Moment) -> None:
        """The statement run; after an outage its first tick also runs the cycle days nobody ran, as the
        schedule does."""
        if moment.day == self.faults.schedule.recovery_day:
            for missed in self.faults.schedule.outage:
                self.pipeline.statements(missed, self.clock())
        self.pipeline.statements(moment.day, self.clock())

    def _deliver(self, moment: Moment) -> None:
        schedule = self.faults.schedule
        providers = self.pipeline.s.providers
        if self._kill_now(moment):
            self.kills_done += 1
            with self.books.timed("killed_delivery"):
                killed = kill_delivery_process(
                    KILLED_CHANNEL,
                    self.pipeline.s.ledger.url,
                    self.faults.policy_path,
                    self.clock(),
                    self.faults.kill_environment,
                    self.journal.accepted,
                )
            self.books.faults["kill_delivery_killed_mid_batch" if killed else "kill_delivery_finished_first"] += 1
            providers = tuple(p for p in providers if p.channel.value != KILLED_CHANNEL)
        restart = None
        if moment.step is Step.DELIVERY and moment.at == DELIVERY_TIMES[0] and moment.day in schedule.restart_days:
            if self.faults.restart_url is None:
                self.books.faults["db_restart_not_applicable_on_sqlite"] += 1
            else:
                restart = terminate_connections_later(self.faults.restart_url, RESTART_DELAY_SECONDS)
                self.books.faults["db_restart"] += 1
        self.pipeline.deliver(providers)
        if restart is not None:
            restart.join()
        self.last_delivery_at = moment.instant
        self._wait_for_webhooks()
        self.pipeline.settle()
        with self.books.timed("customers_reached"):
            self._read_messages()

    def _kill_now(self, moment: Moment) -> bool:
        """Whether this delivery run is one to kill: from each kill day on, the first with emails due enough
        for a batch to be cut short (a small world's run may have none)."""
        due_kills = sum(1 for day in self.faults.schedule.kill_days if day <= moment.day)
        if moment.step is not Step.DELIVERY or self.kills_done >= due_kills:
            return False
        now = moment.instant
        with self.pipeline.s.ledger.begin() as connection:
            due = connection.execute(
                select(func.count())
                .select_from(outbox)
                .where(
                    outbox.c.channel == KILLED_CHANNEL,
                    outbox.c.status.in_([OutboxStatus.RENDERED, OutboxStatus.RETRY]),
                    outbox.c.window_start <= now,
                    outbox.c.window_end > now,
                )
            ).scalar_one()
        return int(due) >= KILL_WHEN_DUE

    def _wait_for_webhooks(self) -> None:
        with self.books.timed("webhooks_awaited"):
            self.sandbox.control.wait_for_webhooks(WEBHOOK_WAIT_SECONDS)

    def _read_messages(self) -> None:
        """The messages accepted since the last look reach their customers (those delivered)."""
        records = self.journal.read_new()
        self.today["sent"] += len(records)
        if not records:
            return
        keys = sorted({str(r["reminder_key"]) for r in records})
        rows: dict[str, tuple[str, tuple[str, ...], bool]] = {}
        with self.pipeline.s.ledger.begin() as connection:
            for chunk in range(0, len(keys), 500):
                query = select(outbox.c.dedupe_key, outbox.c.customer_id, outbox.c.invoice_ids, outbox.c.offset_days)
                for key, customer, invoices, offset in connection.execute(
                    query.where(outbox.c.dedupe_key.in_(keys[chunk : chunk + 500]))
                ):
                    rows[key] = (customer, tuple(json.loads(invoices)), offset < 0)
        for record in sorted(records, key=lambda r: str(r["reminder_key"])):
            found = rows.get(str(record["reminder_key"]))
            if found is None or record.get("status") != "delivered":
                continue
            self.today["reached"] += 1
            at = datetime.fromisoformat(str(record["accepted_at"]))
            reached = Reached(found[0], found[1], str(record["channel"]), at, found[2])
            self.replies.add(self.accounts.reach(reached))

    def finish(self, last_day: date) -> None:
        """The payments made by the end of the last day, posted (the audit and the figures read them)."""
        end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=self.clock().tzinfo)
        self.clock.set(end)
        self._customers_act(end - timedelta(microseconds=1), deliver=True)
