"""The payment webhook: a payment cancels its customer's pending reminders before the next delivery run."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.delivery.service import deliver
from reminder_pipeline.ledger.schema import payments
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.inbox import EventStatus
from reminder_pipeline.providers.sendgrid import SendGridProvider
from reminder_pipeline_tests.delivery.conftest import Clock, clock, email, sandbox
from reminder_pipeline_tests.delivery.crowd import people, written_day
from reminder_pipeline_tests.delivery.helpers import keys_received, rows
from reminder_pipeline_tests.web.kinds import inbox, send
from reminder_pipeline_tests.web.signing import MovableClock, Post, Secrets, hmac_header, payment, payment_post

__all__ = ["clock", "email", "sandbox"]  # the delivery tests' fixtures, used here


def paid(ledger: Ledger) -> list[dict[str, object]]:
    with ledger.begin() as connection:
        return [dict(r) for r in connection.execute(select(payments)).mappings()]


def test_a_payment_cancels_the_pending_reminder_before_the_next_delivery(
    client: httpx.Client,
    ledger: Ledger,
    tmp_path: Path,
    secrets: Secrets,
    web_clock: MovableClock,
    sandbox,  # type: ignore[no-untyped-def]
    email: SendGridProvider,
    clock: Clock,
) -> None:
    written_day(ledger, tmp_path, people(3))
    answer = send(client, payment_post(secrets, payment("P-1", "INV-C00002", "100.00"), web_clock.now))
    assert answer.status_code == 200
    assert answer.json()["status"] == EventStatus.PROCESSED
    assert rows(ledger)["C00002/email"]["status"] == OutboxStatus.CANCELLED
    report = deliver(ledger, email, clock)
    assert report.sent == 2
    received = keys_received(sandbox.control.messages())
    assert rows(ledger)["C00002/email"]["dedupe_key"] not in received
    assert {p["payment_id"]: p["amount_minor"] for p in paid(ledger)} == {"P-1": 10000}
    [event] = inbox(ledger)
    assert "1 pending reminder(s) cancelled" in event["detail"]


def test_the_same_payment_id_again_is_a_no_op_whatever_it_says(
    client: httpx.Client, ledger: Ledger, tmp_path: Path, secrets: Secrets, web_clock: MovableClock
) -> None:
    written_day(ledger, tmp_path, people(1))
    assert send(client, payment_post(secrets, payment("P-1", amount="40.00"), web_clock.now)).status_code == 200
    again = send(client, payment_post(secrets, payment("P-1", amount="60.00"), web_clock.now))
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate"}
    assert [(p["payment_id"], p["amount_minor"]) for p in paid(ledger)] == [("P-1", 4000)]
    assert len(inbox(ledger)) == 1


def test_a_payment_the_ledger_cannot_take_is_kept_with_the_reason(
    client: httpx.Client, ledger: Ledger, tmp_path: Path, secrets: Secrets, web_clock: MovableClock
) -> None:
    written_day(ledger, tmp_path, people(1))
    in_dollars = payment("P-9") | {"currency": "USD"}
    answer = send(client, payment_post(secrets, in_dollars, web_clock.now))
    assert answer.status_code == 200
    assert answer.json()["status"] == EventStatus.FAILED
    [event] = inbox(ledger)
    assert "the invoice is in EUR" in event["detail"]
    assert paid(ledger) == []
    assert rows(ledger)["C00001/email"]["status"] == OutboxStatus.RENDERED


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"amount": 100.0}, "decimal string"),
        ({"amount": "1e2"}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"paid_at": "2026-03-10T14:30:00"}, "offset"),
        ({"paid_at": "last Tuesday"}, "ISO 8601"),
        ({"payment_id": ""}, "payment_id"),
        ({"payment_id": "P" * 101}, "payment_id"),
        ({"invoice_id": None}, "invoice_id"),
        ({"currency": "E1R"}, "ISO 4217"),
    ],
)
def test_a_signed_body_that_is_not_a_payment_is_refused_and_stores_nothing(
    client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock, changes: dict, reason: str
) -> None:
    answer = send(client, payment_post(secrets, payment() | changes, web_clock.now))
    assert answer.status_code == 400
    assert reason in answer.json()["error"]
    assert inbox(ledger) == []


@pytest.mark.parametrize("body", [b"[]", b"not json", b'"a string"', b"\xff\xfe"])
def test_a_signed_body_that_is_not_json_object_is_refused(
    client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock, body: bytes
) -> None:
    headers = {"X-Reminders-Signature": hmac_header(secrets.payment_secret, body, web_clock.now)}
    assert send(client, Post("/webhooks/payments", body, headers)).status_code == 400
    assert inbox(ledger) == []


def test_a_signature_header_may_carry_several_signatures_while_a_secret_rotates(
    client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    post = payment_post(secrets, payment(), web_clock.now)
    old = hmac_header(secrets.others().payment_secret, post.body, web_clock.now).split(",")[1]
    rotated = post.headers["X-Reminders-Signature"].replace(",", f",{old},") + ",v0=ignored"
    assert send(client, Post(post.path, post.body, {"X-Reminders-Signature": rotated})).status_code == 200
    for broken in ("t=,v1=00", "v1=00", f"t=1,t=2,{old}", "garbage", "t=" + "9" * 40 + ",v1=00"):
        assert send(client, Post(post.path, post.body, {"X-Reminders-Signature": broken})).status_code == 403
    assert json.loads(inbox(ledger)[0]["body"]) == payment()
