"""Delivery through the official SDKs against the sandbox over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.delivery.last_look import LastLookReason
from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.delivery.service import DeliveryOptions, deliver
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.providers.sendgrid import SendGridProvider
from reminder_pipeline.providers.twilio import TwilioProvider
from reminder_pipeline_tests.delivery.conftest import Clock
from reminder_pipeline_tests.delivery.crowd import DAY, people, written_day
from reminder_pipeline_tests.delivery.helpers import attempts, keys_received, rows, statuses
from reminder_pipeline_tests.ingestion.helpers import ingest_file, write_csv

S = OutboxStatus


def test_due_reminders_go_out_once_each_with_their_key_and_the_providers_id(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, sms: TwilioProvider, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(6) + people(4, "sms", start=50))
    by_email = deliver(ledger, email, clock)
    by_sms = deliver(ledger, sms, clock)
    assert (by_email.sent, by_sms.sent) == (6, 4)
    received = sandbox.control.messages()
    assert keys_received(received) == {r["dedupe_key"]: 1 for r in rows(ledger).values()}
    ids = {m["reminder_key"]: m["provider_id"] for m in received}
    for row in rows(ledger).values():
        assert row["status"] == S.SENT
        assert row["provider_id"] == ids[row["dedupe_key"]]
        assert row["sent_at"] is not None
    email_message = next(m for m in received if m["channel"] == "email")
    assert email_message["subject"]
    assert email_message["from"].endswith("@example.com")
    assert [a["outcome"] for a in attempts(ledger)] == ["accepted"] * 10


def test_running_delivery_again_sends_nothing_more(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(5))
    deliver(ledger, email, clock)
    clock.now += timedelta(minutes=30)
    again = deliver(ledger, email, clock)
    assert again.sent == 0
    assert len(sandbox.control.messages()) == 5


def test_a_payment_a_dispute_and_an_opt_out_recorded_after_rendering_each_stop_their_send(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, sms: TwilioProvider, clock: Clock
) -> None:
    crowd = people(3) + people(2, "sms", start=50)
    written_day(ledger, tmp_path, crowd)
    payments = write_csv(
        tmp_path / "payments.csv",
        f"payment_id,invoice_id,amount,currency,paid_date\nP-1,INV-C00001,100.00,EUR,{DAY}",
    )
    ingest_file(ledger, payments, Entity.PAYMENTS)
    disputed = write_csv(
        tmp_path / "disputed.csv",
        "invoice_id,customer_id,issue_date,due_date,amount,currency,disputed\n"
        f"INV-C00002,C00002,2026-01-10,{DAY - timedelta(days=8)},100.00,EUR,true",
    )
    ingest_file(ledger, disputed, Entity.INVOICES)
    opted_out = write_csv(
        tmp_path / "opt_out.csv",
        "customer_id,phone,country,time_zone,preferred_channel,sms_consent,sms_opt_out\n"
        "C00050,+12025550050,US,America/New_York,sms,true,true",
    )
    ingest_file(ledger, opted_out, Entity.CUSTOMERS)
    assert deliver(ledger, email, clock).sent == 1
    assert deliver(ledger, sms, clock).sent == 1
    after = rows(ledger)
    assert (after["C00001/email"]["status"], after["C00001/email"]["status_reason"]) == (
        S.CANCELLED,
        LastLookReason.PAID,
    )
    assert (after["C00002/email"]["status"], after["C00002/email"]["status_reason"]) == (
        S.CANCELLED,
        LastLookReason.DISPUTED,
    )
    assert after["C00050/sms"]["status"] == S.CANCELLED
    assert "opted out" in after["C00050/sms"]["status_reason"]
    assert {m["to"] for m in sandbox.control.messages()} == {"c00003@example.com", "+12025550051"}


def test_nothing_goes_out_before_or_after_the_recipients_window(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(3))
    clock.now = clock.now.replace(hour=5)  # 06:00 in Berlin
    assert deliver(ledger, email, clock).sent == 0
    assert statuses(ledger) == {S.RENDERED: 3}
    clock.now = clock.now.replace(hour=21)  # 22:00 in Berlin
    assert deliver(ledger, email, clock).sent == 0
    assert statuses(ledger) == {S.EXPIRED: 3}
    assert sandbox.control.messages() == []


def test_a_rate_limit_is_honoured_and_every_reminder_still_goes_once(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(30))
    sandbox.control.set_faults("rate_limit=5/s")
    first = deliver(ledger, email, clock)
    limited = [a for a in attempts(ledger) if a["http_status"] == 429]
    assert first.retried == len(limited) > 0
    waiting = [r for r in rows(ledger).values() if r["status"] == S.RETRY]
    assert len(waiting) == first.retried
    assert all(r["next_attempt_at"] is not None for r in waiting)
    sandbox.control.set_faults("")
    for _ in range(12):
        clock.now += timedelta(minutes=5)
        deliver(ledger, email, clock)
    assert statuses(ledger) == {S.SENT: 30}
    assert set(keys_received(sandbox.control.messages()).values()) == {1}


def test_server_errors_are_retried_later_as_the_same_reminder(
    ledger: Ledger, tmp_path: Path, sandbox, sms: TwilioProvider, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(4, "sms"))
    sandbox.control.set_faults("error_rate=1")
    report = deliver(ledger, sms, clock)
    assert (report.sent, report.retried) == (0, 4)
    sandbox.control.set_faults("")
    clock.now += timedelta(minutes=2)
    assert deliver(ledger, sms, clock).sent == 4
    assert len(rows(ledger)) == 4
    assert set(keys_received(sandbox.control.messages()).values()) == {1}


def test_a_timeout_after_the_provider_accepted_is_reconciled_not_resent(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, sms: TwilioProvider, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(3) + people(3, "sms", start=50))
    sandbox.control.set_faults("timeout_rate=1")
    assert deliver(ledger, email, clock).unknown == 3
    assert deliver(ledger, sms, clock).unknown == 3
    assert statuses(ledger) == {S.UNKNOWN: 6}
    sandbox.control.set_faults("")
    clock.now += timedelta(minutes=1)
    assert deliver(ledger, email, clock).reconciled == {"sent": 3}
    assert deliver(ledger, sms, clock).reconciled == {"sent": 3}
    assert statuses(ledger) == {S.SENT: 6}
    received = sandbox.control.messages()
    assert set(keys_received(received).values()) == {1}
    assert {r["provider_id"] for r in rows(ledger).values()} == {m["provider_id"] for m in received}


def test_a_connection_dropped_before_the_provider_accepted_is_sent_once_after_reconciling(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, sms: TwilioProvider, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(2) + people(2, "sms", start=50))
    sandbox.control.set_faults("drop_rate=1")
    deliver(ledger, email, clock)
    deliver(ledger, sms, clock)
    assert sandbox.control.messages() == []
    assert statuses(ledger)[S.SENT] == 0
    sandbox.control.set_faults("")
    for _ in range(3):
        clock.now += timedelta(minutes=5)
        deliver(ledger, email, clock)
        deliver(ledger, sms, clock)
    assert statuses(ledger) == {S.SENT: 4}
    assert set(keys_received(sandbox.control.messages()).values()) == {1}


@pytest.mark.parametrize("batch_size", [1, 7])
def test_batches_of_any_size_drain_the_outbox(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, clock: Clock, batch_size: int
) -> None:
    written_day(ledger, tmp_path, people(9))
    report = deliver(ledger, email, clock, DeliveryOptions(batch_size=batch_size))
    assert report.sent == 9
    assert report.batches == -(-9 // batch_size)


def test_an_outcome_still_unknown_when_the_window_closes_goes_to_an_operator_never_resent(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(2))
    sandbox.control.set_faults("timeout_rate=1,hold_ms=3000")
    deliver(ledger, email, clock)
    sandbox.control.set_faults("drop_rate=1")  # the provider cannot be asked: lookups fail too
    clock.now += timedelta(minutes=5)
    assert deliver(ledger, email, clock).reconciled == {"unknown": 2}
    clock.now = clock.now.replace(hour=21)  # 22:00 in Berlin: the window is over
    assert deliver(ledger, email, clock).reconciled == {"unresolved": 2}
    assert statuses(ledger) == {S.UNRESOLVED: 2}
    sandbox.control.set_faults("")
    clock.now += timedelta(hours=1)
    assert deliver(ledger, email, clock).sent == 0
    assert set(keys_received(sandbox.control.messages()).values()) == {1}
