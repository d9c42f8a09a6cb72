"""Replies by SMS and email: keywords honoured before the next send, free text classified and acted on."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.delivery.service import deliver
from reminder_pipeline.ledger.schema import disputes, promises_to_pay, replies, tasks
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.inbox import EventSource, EventStatus, Processed
from reminder_pipeline.providers.sendgrid import SendGridProvider
from reminder_pipeline.providers.twilio import TwilioProvider
from reminder_pipeline_tests.delivery.conftest import Clock
from reminder_pipeline_tests.delivery.crowd import Person, people, written_day
from reminder_pipeline_tests.delivery.helpers import customer, rows
from reminder_pipeline_tests.ingestion.helpers import ingest_file, write_csv
from reminder_pipeline_tests.listening.processing.posts import inbound_email, post, twilio_inbound

S = OutboxStatus
PHONE = "+12025550001"  # C00001's number in the test crowd


def _table(ledger: Ledger, table: Any) -> list[dict[str, Any]]:
    with ledger.begin() as connection:
        return [dict(r) for r in connection.execute(select(table)).mappings().all()]


def _sms(ledger: Ledger, text: str, clock: Clock, sid: str = "SM" + "1" * 32, sender: str = PHONE) -> Processed:
    done = post(ledger, EventSource.TWILIO_INBOUND, twilio_inbound(sid, sender, text), clock.now, key=sid)
    assert done is not None
    return done


def test_stop_opts_out_cancels_pending_sms_and_the_next_delivery_sends_none(
    ledger: Ledger, tmp_path: Path, sandbox, sms: TwilioProvider, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(3, "sms"))
    done = _sms(ledger, " stop! ", clock)
    assert (done.status, done.reply) == (EventStatus.PROCESSED, None)
    assert customer(ledger, "C00001")["sms_opt_out_at"] is not None
    assert rows(ledger)["C00001/sms"]["status"] == S.CANCELLED
    assert deliver(ledger, sms, clock).sent == 2
    assert PHONE not in {m["to"] for m in sandbox.control.messages()}
    [reply] = _table(ledger, replies)
    assert (reply["intent"], reply["action"], reply["customer_id"]) == ("opt_out", "opted_out", "C00001")
    assert PHONE not in done.detail
    again = _sms(ledger, "START", clock, sid="SM" + "2" * 32)
    assert again.status is EventStatus.PROCESSED
    assert customer(ledger, "C00001")["sms_opt_out_at"] is None


def test_help_is_answered_with_twiml_naming_the_sender(ledger: Ledger, tmp_path: Path, clock: Clock) -> None:
    written_day(ledger, tmp_path, people(1, "sms"))
    done = _sms(ledger, "help", clock)
    assert done.reply is not None
    assert done.reply.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>')
    assert "Example Supplies Ltd" in done.reply
    assert "accounts@example.com" in done.reply
    assert rows(ledger)["C00001/sms"]["status"] == S.RENDERED


def test_a_promise_to_pay_is_stored_and_pauses_the_customers_reminders(
    ledger: Ledger, tmp_path: Path, sandbox, sms: TwilioProvider, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(2, "sms"))
    done = _sms(ledger, "I will pay on Friday", clock)
    assert done.status is EventStatus.PROCESSED
    [promise] = _table(ledger, promises_to_pay)
    assert (promise["customer_id"], promise["promised_date"], promise["status"]) == (
        "C00001",
        date(2026, 3, 13),
        "pending",
    )
    assert promise["made_on"] == date(2026, 3, 10)
    assert rows(ledger)["C00001/sms"]["status"] == S.CANCELLED
    assert deliver(ledger, sms, clock).sent == 1
    assert _table(ledger, replies)[0]["action"] == "promise"


@pytest.mark.parametrize(
    ("text", "kind", "cancelled"),
    [
        ("I paid already but the amount is wrong", "unclear_reply", False),
        ("hmm", "unclear_reply", False),
        ("I will pay", "unclear_reply", False),
        ("I already paid last week", "payment_claimed", False),
        ("Please call me", "call_request", False),
        ("This invoice is wrong, I never ordered this", "dispute", True),
    ],
)
def test_free_text_opens_the_right_task_and_pauses_only_for_a_dispute(
    ledger: Ledger, tmp_path: Path, clock: Clock, text: str, kind: str, cancelled: bool
) -> None:
    written_day(ledger, tmp_path, people(1, "sms"))
    _sms(ledger, text, clock)
    [task] = _table(ledger, tasks)
    assert (task["kind"], task["customer_id"], task["status"]) == (kind, "C00001", "open")
    assert text not in task["reason"]
    assert (rows(ledger)["C00001/sms"]["status"] == S.CANCELLED) is cancelled
    if kind == "dispute":
        [dispute] = _table(ledger, disputes)
        assert (dispute["invoice_id"], dispute["resolved_on"]) == ("INV-C00001", None)
    else:
        assert _table(ledger, disputes) == []


def test_an_email_reply_is_read_without_its_quoted_history_and_unsubscribe_opts_out_of_email(
    ledger: Ledger, tmp_path: Path, sandbox, email: SendGridProvider, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(2))
    text = "Je paierai la semaine prochaine.\n\nLe 9 mars 2026, Accounts a écrit :\n> Please call us or pay now"
    body = inbound_email('"Anna" <C00001@Example.com>', text, message_id="<r1@example.com>")
    done = post(ledger, EventSource.SENDGRID_INBOUND, body, clock.now)
    assert done is not None
    assert done.status is EventStatus.PROCESSED
    [promise] = _table(ledger, promises_to_pay)
    assert promise["promised_date"] == date(2026, 3, 20)
    stop = post(ledger, EventSource.SENDGRID_INBOUND, inbound_email("c00002@example.com", "UNSUBSCRIBE"), clock.now)
    assert stop is not None
    assert customer(ledger, "C00002")["email_opt_out_at"] is not None
    assert deliver(ledger, email, clock).sent == 0
    assert {r["provider_id"] for r in _table(ledger, replies)} >= {"<r1@example.com>"}


def test_a_sender_the_ledger_does_not_know_or_shared_by_two_customers_is_never_guessed(
    ledger: Ledger, tmp_path: Path, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(2, "sms"))
    stranger = _sms(ledger, "I will pay on Friday", clock, sender="+12025559999")
    assert stranger.status is EventStatus.UNMATCHED
    shared = write_csv(
        tmp_path / "shared.csv",
        "customer_id,phone,country,time_zone,preferred_channel,sms_consent\nC00002,+12025550001,US,America/New_York,sms,true",
    )
    ingest_file(ledger, shared, Entity.CUSTOMERS)
    _sms(ledger, "I will pay on Friday", clock, sid="SM" + "3" * 32)
    assert _table(ledger, promises_to_pay) == []
    [task] = _table(ledger, tasks)
    assert (task["kind"], task["customer_id"]) == ("unknown_sender", None)
    _sms(ledger, "STOP", clock, sid="SM" + "4" * 32)
    assert customer(ledger, "C00001")["sms_opt_out_at"] is not None
    assert customer(ledger, "C00002")["sms_opt_out_at"] is not None


def test_the_same_reply_twice_acts_once(ledger: Ledger, tmp_path: Path, clock: Clock) -> None:
    written_day(ledger, tmp_path, people(1, "sms"))
    body = twilio_inbound("SM" + "5" * 32, PHONE, "Please call me")
    first = post(ledger, EventSource.TWILIO_INBOUND, body, clock.now, key="a")
    second = post(ledger, EventSource.TWILIO_INBOUND, body, clock.now + timedelta(minutes=1), key="b")
    assert first is not None
    assert second is not None
    assert (first.status, second.status) == (EventStatus.PROCESSED, EventStatus.IGNORED)
    assert len(_table(ledger, tasks)) == 1
    assert len(_table(ledger, replies)) == 1


def test_a_person_with_sms_and_email_who_texts_stop_still_gets_email(
    ledger: Ledger, tmp_path: Path, sandbox, sms: TwilioProvider, clock: Clock
) -> None:
    written_day(ledger, tmp_path, [Person("C00001", "sms", email="c1@example.com")])
    _sms(ledger, "STOP", clock)
    stored = customer(ledger, "C00001")
    assert (stored["sms_opt_out_at"] is not None, stored["email_opt_out_at"]) == (True, None)
