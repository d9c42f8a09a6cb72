"""Refusals for good: the contact is marked, the step falls back to its next channel under the caps, or
goes to a collector; our own wrong credentials stop the run without failing anyone's reminder."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.delivery.follow_up import FollowUp
from reminder_pipeline.delivery.service import ProviderConfigurationError, deliver
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.providers.sendgrid import SendGridProvider
from reminder_pipeline.providers.twilio import TwilioProvider
from reminder_pipeline.reminders.service import render_day
from reminder_pipeline_tests.delivery.conftest import Clock, sendgrid_at, twilio_at
from reminder_pipeline_tests.delivery.crowd import POLICY, SIGNER, Person, people, written_day
from reminder_pipeline_tests.delivery.helpers import attempts, customer, keys_received, rows, statuses

S = OutboxStatus
MAGIC = {"+15005550001": "21211", "+15005550002": "21612", "+15005550003": "21408", "+15005550009": "21614"}


def _follow_up(ledger: Ledger) -> FollowUp:
    from reminder_pipeline.config_files import load_templates

    templates = load_templates()
    return FollowUp(ledger, POLICY, lambda day, now: render_day(ledger, POLICY, templates, SIGNER, day, now))


def test_twilios_refusals_for_good_mark_the_number_and_fall_back_to_email(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, sms: TwilioProvider, clock: Clock
) -> None:
    crowd = [
        Person(f"C0000{i}", "sms", phone=phone, email=f"c{i}@example.com") for i, phone in enumerate(MAGIC, start=1)
    ]
    written_day(ledger, tmp_path, crowd)
    report = deliver(ledger, sms, clock, follow_up=_follow_up(ledger))
    assert report.failed == dict.fromkeys(MAGIC.values(), 1)
    assert report.fallbacks == 4
    for person, code in zip(crowd, MAGIC.values(), strict=True):
        row = rows(ledger)[f"{person.customer_id}/sms"]
        assert (row["status"], row["last_error"].split(":")[0]) == (S.FAILED, code)
        stored = customer(ledger, person.customer_id)
        assert (stored["phone_refused"] == person.phone) is (code != "21408")
        assert rows(ledger)[f"{person.customer_id}/email"]["status"] == S.RENDERED
    assert deliver(ledger, email, clock).sent == 4
    received = sandbox.control.messages()
    assert {m["to"] for m in received} == {p.email for p in crowd}
    assert {(a["outcome"], a["error_code"]) for a in attempts(ledger) if a["provider"] == "twilio"} == {
        ("rejected", code) for code in MAGIC.values()
    }


def test_an_sms_opt_out_at_twilio_with_no_other_channel_goes_to_a_collector_once(
    ledger: Ledger, tmp_path: Path, sandbox, sms: TwilioProvider, clock: Clock
) -> None:
    written_day(ledger, tmp_path, [Person("C00001", "sms", phone="+15005550004")])
    report = deliver(ledger, sms, clock, follow_up=_follow_up(ledger))
    assert (report.failed, report.fallbacks, report.collector_tasks) == ({"21610": 1}, 0, 1)
    assert customer(ledger, "C00001")["sms_opt_out_at"] is not None
    task = rows(ledger)["C00001/collector"]
    assert task["status"] == S.TASK_OPEN
    assert "SMS was refused" in task["status_reason"]
    clock.now += timedelta(minutes=10)
    assert deliver(ledger, sms, clock, follow_up=_follow_up(ledger)).collector_tasks == 0
    assert statuses(ledger) == {S.FAILED: 1, S.TASK_OPEN: 1}
    assert sandbox.control.messages() == []


def test_a_fallback_never_makes_a_second_message_for_the_customer_that_day(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, sms: TwilioProvider, clock: Clock
) -> None:
    written_day(ledger, tmp_path, [Person("C00001", "sms", phone="+15005550001", email="c1@example.com")])
    deliver(ledger, sms, clock, follow_up=_follow_up(ledger))
    deliver(ledger, email, clock)
    deliver(ledger, sms, clock, follow_up=_follow_up(ledger))
    deliver(ledger, email, clock)
    assert keys_received(sandbox.control.messages()) == {rows(ledger)["C00001/email"]["dedupe_key"]: 1}


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_wrong_credentials_stop_the_run_and_fail_nobodys_reminder(
    ledger: Ledger, tmp_path: Path, sandbox, clock: Clock, channel: str
) -> None:
    written_day(ledger, tmp_path, people(3, channel))
    wrong = (
        sendgrid_at(sandbox.url, api_key="SG.wrong") if channel == "email" else twilio_at(sandbox.url, token="x" * 32)
    )
    with pytest.raises(ProviderConfigurationError, match="refused our own account"):
        deliver(ledger, wrong, clock)
    assert statuses(ledger) == {S.RETRY: 3}
    assert sandbox.control.messages() == []
    assert {a["http_status"] for a in attempts(ledger)} == {401}
    right = sendgrid_at(sandbox.url) if channel == "email" else twilio_at(sandbox.url)
    clock.now += timedelta(minutes=20)
    assert deliver(ledger, right, clock).sent == 3
