"""Twilio's status callbacks and inbound SMS: the URL it called is what is signed; TwiML goes back."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.web import create_app
from reminder_pipeline_tests.web.kinds import HELP_TWIML, TEST_HANDLERS, inbox, send
from reminder_pipeline_tests.web.server import RunningApp
from reminder_pipeline_tests.web.signing import MovableClock, Secrets, inbound_sms, status_params, twilio_post

STATUS = "/webhooks/twilio/status"
INBOUND = "/webhooks/twilio/inbound"
SID = "SM" + "a" * 32


def test_a_status_callback_is_stored_with_the_reminder_key_of_its_url(
    client: httpx.Client, ledger: Ledger, secrets: Secrets
) -> None:
    post = twilio_post(secrets, STATUS, status_params(SID, "undelivered", "30003"), query="reminder_key=C00007%2Fsms")
    assert send(client, post).status_code == 200
    [event] = inbox(ledger)
    assert event["dedupe_key"] == f"{SID}:undelivered:30003"
    fields = parse_qs(event["body"])
    assert fields["reminder_key"] == ["C00007/sms"]
    assert fields["ErrorCode"] == ["30003"]
    assert event["body"].startswith(post.body.decode()), "the form body as Twilio sent it, then the URL's parameters"


def test_each_status_and_error_code_of_a_message_is_its_own_event_and_each_repeat_a_no_op(
    client: httpx.Client, ledger: Ledger, secrets: Secrets
) -> None:
    for params in (status_params(SID, "sent"), status_params(SID, "delivered"), status_params(SID, "sent")):
        assert send(client, twilio_post(secrets, STATUS, params)).status_code == 200
    assert send(client, twilio_post(secrets, STATUS, status_params(SID, "undelivered", "30005"))).status_code == 200
    assert [e["dedupe_key"] for e in inbox(ledger)] == [f"{SID}:sent:", f"{SID}:delivered:", f"{SID}:undelivered:30005"]


def test_a_signature_over_the_apps_own_address_is_refused_behind_a_proxy(
    client: httpx.Client, served: RunningApp, ledger: Ledger, secrets: Secrets
) -> None:
    post = twilio_post(secrets, STATUS, status_params(SID), base=served.url)
    assert send(client, post).status_code == 403
    assert inbox(ledger) == []


def test_without_a_public_url_the_address_the_app_was_called_at_is_signed(
    ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    app = create_app(ledger.url, settings=secrets.settings(web_clock, public_url=None), handlers=TEST_HANDLERS)
    with RunningApp(app) as running, httpx.Client(base_url=running.url) as http:
        assert send(http, twilio_post(secrets, STATUS, status_params(SID), base=running.url)).status_code == 200
        assert send(http, twilio_post(secrets, STATUS, status_params(SID, "read"))).status_code == 403
    assert len(inbox(ledger)) == 1


@pytest.mark.parametrize("missing", ["MessageSid", "MessageStatus"])
def test_a_signed_callback_without_its_ids_is_refused(
    client: httpx.Client, ledger: Ledger, secrets: Secrets, missing: str
) -> None:
    params = {k: v for k, v in status_params(SID).items() if k != missing}
    answer = send(client, twilio_post(secrets, STATUS, params))
    assert answer.status_code == 400
    assert missing in answer.json()["error"]
    assert inbox(ledger) == []


def test_an_inbound_sms_is_answered_with_the_handlers_twiml_once(
    client: httpx.Client, ledger: Ledger, secrets: Secrets
) -> None:
    post = twilio_post(secrets, INBOUND, inbound_sms(SID, text="HELP"))
    first = send(client, post)
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/xml")
    assert first.text == HELP_TWIML
    again = send(client, post)
    assert again.text.endswith("<Response/>"), "a retried message is not answered twice"
    other = send(client, twilio_post(secrets, INBOUND, inbound_sms("SM" + "b" * 32, text="who is this")))
    assert other.text == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    assert [e["dedupe_key"] for e in inbox(ledger)] == [SID, "SM" + "b" * 32]


def test_a_refused_inbound_sms_gets_no_twiml(client: httpx.Client, ledger: Ledger, secrets: Secrets) -> None:
    post = twilio_post(secrets.others(), INBOUND, inbound_sms(SID, text="STOP"))
    answer = send(client, post)
    assert answer.status_code == 403
    assert "Response" not in answer.text
    assert inbox(ledger) == []
