"""Twilio status callbacks and SendGrid event batches move sent rows forward, once, whatever their order."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from reminder_pipeline.core.outbox import OUTBOX_LOCK, OutboxStatus
from reminder_pipeline.delivery.service import deliver
from reminder_pipeline.ledger.schema import delivery_events
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.delivery_events import settle_pending
from reminder_pipeline.listening.inbox import EventSource, EventStatus
from reminder_pipeline.providers.sendgrid import SendGridProvider
from reminder_pipeline.providers.twilio import TwilioProvider
from reminder_pipeline_tests.delivery.conftest import Clock
from reminder_pipeline_tests.delivery.crowd import POLICY, Person, people, written_day
from reminder_pipeline_tests.delivery.helpers import customer, rows
from reminder_pipeline_tests.listening.processing.posts import post, sendgrid_event, twilio_status
from reminder_pipeline_tests.listening.processing.sent import sent_day

S = OutboxStatus


def _stored_events(ledger: Ledger) -> int:
    with ledger.begin() as connection:
        return int(connection.execute(select(func.count()).select_from(delivery_events)).scalar_one())


def test_twilio_callbacks_deliver_one_sms_and_fail_another_which_falls_back_to_email(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, sms: TwilioProvider, clock: Clock
) -> None:
    crowd = [Person("C00001", "sms"), Person("C00002", "sms", email="c2@example.com")]
    sent = sent_day(ledger, tmp_path, crowd, email, sms, clock)
    now = clock.now + timedelta(minutes=2)
    one, two = sent["C00001/sms"], sent["C00002/sms"]
    for status in ("queued", "sent", "delivered"):
        done = post(ledger, EventSource.TWILIO_STATUS, twilio_status(one.provider_id, status), now)
        assert done is not None
        assert done.status is EventStatus.PROCESSED
    failed = post(
        ledger,
        EventSource.TWILIO_STATUS,
        twilio_status(two.provider_id, "undelivered", error_code="30003", reminder_key=two.reminder_key),
        now,
    )
    assert failed is not None
    assert "failed" in failed.detail
    assert "fallback" in failed.detail
    after = rows(ledger)
    assert (after["C00001/sms"]["status"], after["C00001/sms"]["provider_status"]) == (S.DELIVERED, "delivered")
    assert after["C00002/sms"]["status"] == S.FAILED
    assert after["C00002/sms"]["last_error"].startswith("30003:")
    assert customer(ledger, "C00002")["phone_refused"] == "+12025550002"
    assert customer(ledger, "C00001")["phone_refused"] is None
    fallback = after["C00002/email"]
    assert (fallback["status"], fallback["status_reason"][:9]) == (S.PLANNED, "fallback:")


def test_sendgrid_batch_settles_each_email_and_opts_out_a_spam_report(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, sms: TwilioProvider, clock: Clock
) -> None:
    sent = sent_day(ledger, tmp_path, people(5), email, sms, clock)
    a, b, c, d, e = (sent[f"C0000{i}/email"] for i in range(1, 6))
    batch = [
        sendgrid_event("processed", a.provider_id, a.reminder_key),
        sendgrid_event("delivered", a.provider_id, a.reminder_key),
        sendgrid_event("open", a.provider_id, a.reminder_key),
        sendgrid_event("click", a.provider_id, a.reminder_key, url="https://pay.example.com/p/x"),
        sendgrid_event(
            "bounce", b.provider_id, b.reminder_key, type="bounce", status="5.1.1", reason="550 no <b@x.io>"
        ),
        sendgrid_event("bounce", c.provider_id, None, type="blocked", status="5.7.1", reason="blocked"),
        sendgrid_event("dropped", d.provider_id, d.reminder_key, reason="Bounced Address"),
        sendgrid_event("spamreport", e.provider_id, e.reminder_key),
        sendgrid_event("delivered", "unknownid", None),
    ]
    done = post(ledger, EventSource.SENDGRID_EVENTS, json.dumps(batch), clock.now + timedelta(minutes=5))
    assert done is not None
    assert done.status is EventStatus.PROCESSED
    assert "1 unmatched" in done.detail
    after = rows(ledger)
    assert {k: after[f"C0000{k}/email"]["status"] for k in range(1, 6)} == {
        1: S.DELIVERED,
        2: S.FAILED,
        3: S.FAILED,
        4: S.FAILED,
        5: S.DELIVERED,
    }
    assert after["C00002/email"]["last_error"].startswith("5.1.1:")
    assert "b@x.io" not in after["C00002/email"]["last_error"]
    assert after["C00003/email"]["provider_status"] == "blocked"
    for refused in ("C00002", "C00003", "C00004"):
        assert customer(ledger, refused)["email_refused"] == f"{refused.lower()}@example.com"
        assert after[f"{refused}/collector"]["status"] == S.TASK_OPEN
    assert customer(ledger, "C00005")["email_opt_out_at"] is not None
    assert customer(ledger, "C00001")["email_refused"] is None
    again = post(ledger, EventSource.SENDGRID_EVENTS, json.dumps(batch[::-1]), clock.now + timedelta(minutes=6))
    assert again is not None
    assert again.status is EventStatus.IGNORED
    assert _stored_events(ledger) == len(batch)


def test_a_bounce_after_delivered_keeps_the_row_delivered_and_refuses_the_address(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, sms: TwilioProvider, clock: Clock
) -> None:
    sent = sent_day(ledger, tmp_path, people(1), email, sms, clock)["C00001/email"]
    now = clock.now + timedelta(minutes=1)
    for event in ("delivered", "bounce"):
        body = json.dumps([sendgrid_event(event, sent.provider_id, sent.reminder_key, type="bounce")])
        post(ledger, EventSource.SENDGRID_EVENTS, body, now)
    after = rows(ledger)
    assert after["C00001/email"]["status"] == S.DELIVERED
    assert "C00001/collector" not in after
    assert customer(ledger, "C00001")["email_refused"] == "c00001@example.com"


def test_events_for_messages_the_ledger_does_not_know_are_unmatched_and_unreadable_ones_failed(
    ledger: Ledger, tmp_path: Path, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(1))
    unknown = post(ledger, EventSource.TWILIO_STATUS, twilio_status("SM" + "f" * 32, "delivered"), clock.now)
    assert unknown is not None
    assert unknown.status is EventStatus.UNMATCHED
    for source, body in [
        (EventSource.TWILIO_STATUS, "MessageStatus=delivered"),
        (EventSource.SENDGRID_EVENTS, '{"event": "delivered"}'),
        (EventSource.SENDGRID_EVENTS, "not json"),
        (EventSource.SENDGRID_EVENTS, '[{"event": "delivered"}, 3]'),
    ]:
        done = post(ledger, source, body, clock.now)
        assert done is not None
        assert done.status is EventStatus.FAILED, body
    assert rows(ledger)["C00001/email"]["status"] == S.RENDERED


def test_a_callback_for_a_send_whose_answer_was_lost_settles_the_row_without_a_resend(
    ledger: Ledger, tmp_path: Path, sandbox, sms: TwilioProvider, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(1, "sms"))
    sandbox.control.set_faults("timeout_rate=1,hold_ms=3000")
    assert deliver(ledger, sms, clock).unknown == 1
    sandbox.control.set_faults("")
    message = sandbox.control.messages()[0]
    body = twilio_status(message["provider_id"], "delivered", reminder_key=message["reminder_key"])
    post(ledger, EventSource.TWILIO_STATUS, body, clock.now + timedelta(seconds=30))
    row = rows(ledger)["C00001/sms"]
    assert (row["status"], row["provider_id"]) == (S.DELIVERED, message["provider_id"])
    clock.now += timedelta(minutes=10)
    assert deliver(ledger, sms, clock).sent == 0
    assert len(sandbox.control.messages()) == 1


def test_an_event_that_outran_its_rows_answer_is_linked_and_settled_later(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, clock: Clock
) -> None:
    """The send's answer was lost (the row has no provider id yet) and the bounce names the message only by
    ``sg_message_id`` (async bounces may lack the custom args): it waits unmatched until reconciliation."""
    written_day(ledger, tmp_path, people(1))
    sandbox.control.set_faults("timeout_rate=1,hold_ms=3000")
    assert deliver(ledger, email, clock).unknown == 1
    sandbox.control.set_faults("")
    message_id = sandbox.control.messages()[0]["provider_id"]
    early = sendgrid_event("bounce", message_id, None, type="bounce", status="5.1.1")
    done = post(ledger, EventSource.SENDGRID_EVENTS, json.dumps([early]), clock.now)
    assert done is not None
    assert done.status is EventStatus.UNMATCHED
    clock.now += timedelta(minutes=1)
    assert deliver(ledger, email, clock).reconciled == {"sent": 1}
    with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
        applied = settle_pending(connection, POLICY, clock.now)
    assert (applied.new, dict(applied.moved)) == (1, {"failed": 1})
    assert rows(ledger)["C00001/email"]["status"] == S.FAILED
    assert customer(ledger, "C00001")["email_refused"] == "c00001@example.com"
    with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
        assert settle_pending(connection, POLICY, clock.now).new == 0
