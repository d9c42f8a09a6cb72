"""Every webhook, on SQLite and PostgreSQL: a valid request is taken; an unsigned, a wrongly signed and a
stale one are refused with 4xx and write nothing; a replay is a no-op (promise 9)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.inbox import EventStatus
from reminder_pipeline_tests.web.kinds import KINDS, Kind, inbox, send
from reminder_pipeline_tests.web.signing import STALE, MovableClock, Secrets

pytestmark = pytest.mark.parametrize("kind", KINDS, ids=str)


def test_a_valid_request_is_stored_processed_and_acknowledged(
    kind: Kind, client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    answer = send(client, kind.make(secrets, web_clock.now, 1))
    assert answer.status_code == 200, answer.text
    [event] = inbox(ledger)
    assert event["source"] == kind.source
    assert event["status"] == EventStatus.UNMATCHED, "about nothing the ledger knows: acknowledged and kept"
    assert event["detail"]
    assert event["processed_at"] is not None


def test_an_unsigned_request_is_refused_and_writes_nothing(
    kind: Kind, client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    answer = send(client, kind.make(secrets, web_clock.now, 1).without(*kind.signature_headers))
    assert answer.status_code == 401
    assert inbox(ledger) == []


def test_a_request_signed_with_another_secret_is_refused_and_writes_nothing(
    kind: Kind, client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    answer = send(client, kind.make(secrets.others(), web_clock.now, 1))
    assert answer.status_code in (401, 403)
    assert inbox(ledger) == []


def test_a_request_changed_after_signing_is_refused(
    kind: Kind, client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    if kind.name == "sendgrid_inbound":
        pytest.skip("basic auth signs no body: nothing to tamper with")
    post = kind.make(secrets, web_clock.now, 1)
    tampered = post.body.replace(b"1", b"2", 1) if b"1" in post.body else post.body + b" "
    answer = client.post(post.path, content=tampered, headers=post.headers)
    assert answer.status_code in (400, 403)
    assert inbox(ledger) == []


def test_a_stale_request_is_refused_or_a_no_op(
    kind: Kind, client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    if kind.timestamped:
        for stale in (web_clock.now - STALE, web_clock.now + STALE):
            answer = send(client, kind.make(secrets, stale, 1))
            assert answer.status_code == 403
            assert "timestamp" in answer.json()["error"]
        assert inbox(ledger) == []
        just_in_time = web_clock.now - STALE + timedelta(seconds=2)
        assert send(client, kind.make(secrets, just_in_time, 1)).status_code == 200
        return
    # no time is signed: a captured request replayed later changes nothing
    captured = kind.make(secrets, web_clock.now, 1)
    assert send(client, captured).status_code == 200
    web_clock.now += timedelta(days=3)
    again = send(client, captured)
    assert again.status_code == 200
    assert len(inbox(ledger)) == 1


def test_a_replayed_request_is_a_no_op(
    kind: Kind, client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    post = kind.make(secrets, web_clock.now, 1)
    first = send(client, post)
    stored = inbox(ledger)
    second = send(client, post)
    assert first.status_code == second.status_code == 200
    if kind.name != "twilio_inbound":
        assert first.json()["status"] == EventStatus.UNMATCHED
        assert second.json() == {"status": "duplicate"}
    assert inbox(ledger) == stored
    assert send(client, kind.make(secrets, web_clock.now, 2)).status_code == 200
    assert len(inbox(ledger)) == 2, "a new event of the same kind is still taken"


def test_an_endpoint_without_its_secret_answers_503_and_stores_nothing(
    kind: Kind, ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    from reminder_pipeline.web import WebSettings, create_app
    from reminder_pipeline_tests.web.server import RunningApp

    with RunningApp(create_app(ledger.url, settings=WebSettings(clock=web_clock), handlers={})) as running:
        answer = httpx.post(running.url + kind.make(secrets, web_clock.now, 1).path, content=b"{}")
    assert answer.status_code == 503
    assert "not set" in answer.json()["error"]
    assert inbox(ledger) == []
