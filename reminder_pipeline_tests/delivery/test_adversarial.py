"""Adversarial delivery tests: ways a customer could get a duplicate, a message out of hours, a message after
paying, or their number in a log — each a defect an adversarial review found, and fixed.

Real components only: the official SDKs over HTTP against the sandbox, SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from reminder_pipeline.cli.delivery import provider_from_environment
from reminder_pipeline.core.canonical import Channel, Entity
from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.defs.delivery.assets import PREVIEWS
from reminder_pipeline.defs.delivery.metadata import delivery_metadata
from reminder_pipeline.delivery.claims import claim_batch
from reminder_pipeline.delivery.service import DeliveryOptions, DeliveryReport, deliver
from reminder_pipeline.ledger.delivery import sent_messages
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.providers.base import ProviderLimits
from reminder_pipeline.providers.resources import SENDGRID_ACTIVITY_LAG_SECONDS
from reminder_pipeline.providers.sandbox import RunningSandbox
from reminder_pipeline.providers.sendgrid import SendGridProvider
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS
from reminder_pipeline.providers.twilio import TwilioProvider
from reminder_pipeline_tests.delivery.conftest import Clock, sendgrid_at, twilio_at
from reminder_pipeline_tests.delivery.crowd import DAY, SEND_AT, people, written_day
from reminder_pipeline_tests.delivery.helpers import attempts, keys_received, rows, statuses
from reminder_pipeline_tests.ingestion.helpers import ingest_file, write_csv

S = OutboxStatus


class TickingClock:
    """The delivery clock as a busy batch sees it: every reading is ``step`` later than the one before."""

    def __init__(self, start: datetime, step: timedelta) -> None:
        self.start, self.step, self.readings = start, step, 0
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            moment = self.start + self.step * self.readings
            self.readings += 1
        return moment


class RunningClock:
    """The delivery clock as production runs it: ``start`` plus the real time gone by (one for every worker)."""

    def __init__(self, start: datetime) -> None:
        self.start, self.began = start, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.began)


class Worker(threading.Thread):
    """One delivery run in the background, on its own ledger handle (as another process would have)."""

    def __init__(self, url: str, provider: TwilioProvider, clock: Callable[[], datetime], **options: float) -> None:
        super().__init__(daemon=True)
        self.url, self.provider, self.clock = url, provider, clock
        self.options = DeliveryOptions(**options)  # type: ignore[arg-type]
        self.report: DeliveryReport | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with Ledger(self.url) as ledger:
                self.report = deliver(ledger, self.provider, self.clock, self.options)
        except BaseException as error:
            self.error = error

    def finish(self) -> DeliveryReport:
        self.join(timeout=120)
        assert not self.is_alive(), "the delivery run did not finish"
        if self.error is not None:
            raise self.error
        assert self.report is not None
        return self.report


def _wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def _window_end(ledger: Ledger) -> datetime:
    ends = {r["window_end"] for r in rows(ledger).values()}
    assert len(ends) == 1
    end = ends.pop()
    return end if end.tzinfo else end.replace(tzinfo=SEND_AT.tzinfo)


def test_a_batch_claimed_just_before_the_window_closes_hands_nothing_over_after_it_closed(
    ledger: Ledger, tmp_path: Path, sandbox: RunningSandbox, email: SendGridProvider
) -> None:
    written_day(ledger, tmp_path, people(3))
    window_end = _window_end(ledger)
    # Readings: reconcile, lease, claim (all before the end), then the hand-overs, two seconds apart.
    clock = TickingClock(window_end - timedelta(seconds=5), timedelta(seconds=2))
    deliver(ledger, email, clock)
    handed_over = [a["started_at"] for a in attempts(ledger)]
    late = [at for at in handed_over if (at if at.tzinfo else at.replace(tzinfo=window_end.tzinfo)) >= window_end]
    assert not late, f"{len(late)} of {len(handed_over)} handed over after the window closed"


def test_a_batch_that_outlasts_its_lease_is_not_sent_again_by_another_run(
    ledger: Ledger, tmp_path: Path, sandbox: RunningSandbox
) -> None:
    written_day(ledger, tmp_path, people(5, "sms"))
    clock = RunningClock(SEND_AT)
    slow = twilio_at(sandbox.url, ProviderLimits(concurrency=1, per_second=1.0, timeout_seconds=5.0))
    first = Worker(ledger.url, slow, clock, lease_seconds=1.0)
    first.start()
    _wait_for(lambda: len(sandbox.control.messages()) >= 1)
    time.sleep(1.5)  # the first run's lease has run out; it is still sending its batch
    second = deliver(ledger, twilio_at(sandbox.url), clock)
    first.finish()
    assert second.sent + first.finish().sent == 5
    received = keys_received(sandbox.control.messages())
    assert set(received) == {r["dedupe_key"] for r in rows(ledger).values()}
    assert {k: n for k, n in received.items() if n > 1} == {}


def test_a_stale_lookup_never_resends_a_reminder_another_run_has_just_sent(
    ledger: Ledger, tmp_path: Path, sandbox: RunningSandbox, sms: TwilioProvider, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(5, "sms"))
    sandbox.control.set_faults("drop_rate=1")  # nothing reaches the sandbox; every outcome is unknown
    deliver(ledger, sms, clock)
    assert statuses(ledger) == {S.UNKNOWN: 5}
    assert sandbox.control.messages() == []
    # Every request now takes 1.5 s; sends are accepted but their answers never come back in time.
    sandbox.control.set_faults("latency_ms=1500,timeout_rate=1,hold_ms=6000")
    clock.now += timedelta(minutes=1)
    one_lookup_at_a_time = twilio_at(sandbox.url, ProviderLimits(concurrency=1, per_second=500.0, timeout_seconds=2.0))
    careful = Worker(ledger.url, one_lookup_at_a_time, clock)
    careful.start()  # reads the five unknown rows, then asks about them one by one (7.5 s)
    time.sleep(0.5)
    eager = twilio_at(sandbox.url, ProviderLimits(concurrency=16, per_second=500.0, timeout_seconds=2.0))
    deliver(ledger, eager, clock)  # asks about all five at once: none received; sends them; no answers: unknown
    careful.finish()
    sandbox.control.set_faults("")
    clock.now += timedelta(minutes=5)
    deliver(ledger, sms, clock)
    received = keys_received(sandbox.control.messages())
    assert {k: n for k, n in received.items() if n > 1} == {}


def test_a_payment_recorded_while_the_batch_is_in_flight_stops_the_rows_not_yet_handed_over(
    ledger: Ledger, tmp_path: Path, sandbox: RunningSandbox, clock: Clock
) -> None:
    crowd = people(2, "sms")
    written_day(ledger, tmp_path, crowd)
    sandbox.control.set_faults("latency_ms=2500")
    one_at_a_time = twilio_at(sandbox.url, ProviderLimits(concurrency=1, per_second=500.0, timeout_seconds=10.0))
    worker = Worker(ledger.url, one_at_a_time, clock)
    worker.start()
    _wait_for(lambda: statuses(ledger) == {S.SENDING: 2})  # both claimed; the first is with the provider
    payments = write_csv(
        tmp_path / "payments.csv",
        f"payment_id,invoice_id,amount,currency,paid_date\nP-2,INV-{crowd[1].customer_id},100.00,EUR,{DAY}",
    )
    ingest_file(ledger, payments, Entity.PAYMENTS)
    assert sandbox.control.messages() == []  # paid while the first send is still in flight, the second not begun
    worker.finish()
    handed_over = [m for m in sandbox.control.messages() if m["to"] == "+12025550002"]
    assert handed_over == [], "an SMS went out for an invoice the ledger showed as paid"


def test_a_time_zone_changed_after_rendering_is_respected_at_the_last_look(
    ledger: Ledger, tmp_path: Path, sandbox: RunningSandbox, email: SendGridProvider, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(1))
    moved = write_csv(
        tmp_path / "moved.csv",
        "customer_id,email,country,time_zone,preferred_channel\nC00001,c00001@example.com,US,America/Los_Angeles,email",
    )
    ingest_file(ledger, moved, Entity.CUSTOMERS)
    clock.now = clock.now.replace(hour=10)  # 11:00 in Berlin, 03:00 in Los Angeles
    deliver(ledger, email, clock)
    assert sandbox.control.messages() == [], "an email reached a Los Angeles customer at 03:00"


def test_reconciling_an_sms_logs_no_phone_number(
    ledger: Ledger,
    tmp_path: Path,
    sandbox: RunningSandbox,
    sms: TwilioProvider,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    written_day(ledger, tmp_path, people(1, "sms"))
    sandbox.control.set_faults("timeout_rate=1,hold_ms=3000")
    assert deliver(ledger, sms, clock).unknown == 1
    sandbox.control.set_faults("")
    clock.now += timedelta(minutes=1)
    with caplog.at_level(logging.INFO):
        assert deliver(ledger, sms, clock).reconciled == {"sent": 1}
    phone = "+12025550001"
    assert phone not in caplog.text
    assert quote(phone) not in caplog.text


def test_the_delivery_preview_masks_the_name_the_message_was_written_with(
    ledger: Ledger, tmp_path: Path, sandbox: RunningSandbox, email: SendGridProvider, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(1))  # written to "Anna C00001"
    renamed = write_csv(tmp_path / "renamed.csv", "customer_id,name\nC00001,Berta Schmidt")
    ingest_file(ledger, renamed, Entity.CUSTOMERS)
    report = deliver(ledger, email, clock)
    assert report.sent == 1
    with ledger.begin() as connection:
        sent = sent_messages(connection, report.sent_ids, PREVIEWS)
    shown = json.dumps(delivery_metadata(report, sent, 0)["preview"].data, ensure_ascii=False)
    assert "Anna" in sandbox.control.messages()[0]["body"]
    assert "Anna" not in shown


def test_sending_an_email_logs_neither_the_address_nor_the_api_key(
    ledger: Ledger,
    tmp_path: Path,
    sandbox: RunningSandbox,
    email: SendGridProvider,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    written_day(ledger, tmp_path, people(1))
    with caplog.at_level(logging.DEBUG):
        assert deliver(ledger, email, clock).sent == 1
    assert caplog.records, "nothing was logged at all"
    assert "c00001@example.com" not in caplog.text
    assert DEMO_CREDENTIALS.sendgrid_api_key not in caplog.text


def test_reminders_deliver_against_the_real_sendgrid_waits_for_its_activity_feed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.a-key-that-is-never-used")
    monkeypatch.setenv("SENDGRID_FROM_EMAIL", "reminders@example.com")
    monkeypatch.delenv("REMINDERS_SENDGRID_BASE_URL", raising=False)
    provider = provider_from_environment(Channel.EMAIL, ProviderLimits(concurrency=16, per_second=100.0))
    assert provider.limits.lookup_delay_seconds >= SENDGRID_ACTIVITY_LAG_SECONDS


def test_an_email_whose_worker_died_is_not_taken_as_never_received_before_the_provider_can_tell(
    ledger: Ledger, tmp_path: Path, sandbox: RunningSandbox, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(2))
    lagging = sendgrid_at(sandbox.url, ProviderLimits(concurrency=8, per_second=500.0, lookup_delay_seconds=600.0))
    options = DeliveryOptions(lease_seconds=300.0)
    claim = claim_batch(ledger, lagging, clock.now, "a-worker-that-dies", options, clock.now + timedelta(seconds=300))
    assert claim.sending.height == 2  # claimed, recorded 'sending', then the worker died (did it send? maybe)
    clock.now += timedelta(seconds=301)  # the lease ran out; the activity feed may not show the sends yet
    report = deliver(ledger, lagging, clock, options)
    assert report.reconciled["lease_expired"] == 2
    assert report.sent == 0, "a 'not found' was trusted before the provider's lookup delay had passed"
    assert statuses(ledger) == {S.UNKNOWN: 2}
