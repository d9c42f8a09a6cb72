"""Injected inbound messages: Twilio's signed inbound SMS webhook and SendGrid's Inbound Parse, round trip."""

from __future__ import annotations

import base64
import json
import re

import pytest

from reminder_pipeline.providers.base import ContactProblem, SendOutcome
from reminder_pipeline.providers.sandbox import RunningSandbox, SandboxControlError, running_sandbox
from reminder_pipeline.providers.sandbox.state import SandboxConfig
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS, SANDBOX_FROM_NUMBER
from reminder_pipeline_tests.providers.helpers import MOBILE, sms, twilio_at
from reminder_pipeline_tests.providers.sandbox.conftest import INBOUND_EMAIL_PATH, INBOUND_SMS_PATH, posting_to
from reminder_pipeline_tests.providers.sandbox.receiver import Receiver, receiving

SID = re.compile(r"^SM[0-9a-f]{32}$")
INBOUND_PARAMS = {
    "MessageSid", "SmsSid", "SmsMessageSid", "AccountSid", "From", "To", "Body", "NumSegments", "NumMedia",
    "SmsStatus", "ApiVersion", "FromCountry", "ToCountry", "FromCity", "FromState", "FromZip",
}  # fmt: skip
PARSE_FIELDS = {"headers", "dkim", "to", "from", "text", "html", "sender_ip", "envelope", "attachments", "subject"}
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thanks, we will call you.</Message></Response>'


def test_an_injected_sms_is_posted_signed_and_the_twiml_answer_comes_back(receiver: Receiver) -> None:
    receiver.answer = lambda _arrival: (200, "text/xml", TWIML.encode())
    with posting_to(receiver) as sandbox:
        answer = sandbox.control.inject_sms(MOBILE, SANDBOX_FROM_NUMBER, "Can you call me tomorrow?")
    [arrival] = receiver.on(INBOUND_SMS_PATH)
    params = arrival.form()
    assert set(params) >= INBOUND_PARAMS
    assert arrival.twilio_signed()
    assert not arrival.twilio_signed("not-the-token")
    assert (params["From"], params["To"], params["Body"]) == (MOBILE, SANDBOX_FROM_NUMBER, "Can you call me tomorrow?")
    assert SID.match(params["MessageSid"])
    assert params["MessageSid"] == params["SmsSid"] == params["SmsMessageSid"] == answer.message_id
    assert (params["SmsStatus"], params["NumMedia"], params["NumSegments"], params["FromCountry"]) == (
        "received",
        "0",
        "1",
        "US",
    )
    assert params["AccountSid"] == DEMO_CREDENTIALS.twilio_account_sid
    assert (answer.status, answer.content_type, answer.body) == (200, "text/xml", TWIML)
    assert (answer.replies, answer.auto_reply, answer.error) == (["Thanks, we will call you."], None, None)


def test_stop_opts_the_number_out_of_later_sends_until_start(receiver: Receiver) -> None:
    receiver.answer = lambda _arrival: (200, "text/xml", b"<Response/>")
    with posting_to(receiver) as sandbox:
        provider = twilio_at(sandbox, callback_base=receiver.base)
        assert provider.send(sms("rk-before")).outcome is SendOutcome.ACCEPTED
        stopped = sandbox.control.inject_sms(MOBILE, SANDBOX_FROM_NUMBER, " stop. ")
        assert stopped.auto_reply is not None
        assert "unsubscribed" in stopped.auto_reply
        assert stopped.replies == []
        refused = provider.send(sms("rk-after-stop"))
        assert (refused.outcome, refused.error_code, refused.contact_problem) == (
            SendOutcome.REJECTED,
            "21610",
            ContactProblem.OPTED_OUT,
        )
        assert provider.send(sms("rk-other", to="+14155550199")).outcome is SendOutcome.ACCEPTED
        help_answer = sandbox.control.inject_sms(MOBILE, SANDBOX_FROM_NUMBER, "HELP")
        assert help_answer.auto_reply is not None
        assert provider.send(sms("rk-after-help")).outcome is SendOutcome.REJECTED
        assert sandbox.control.inject_sms(MOBILE, SANDBOX_FROM_NUMBER, "Start").auto_reply is not None
        assert provider.send(sms("rk-after-start")).outcome is SendOutcome.ACCEPTED
        assert sandbox.control.inject_sms(MOBILE, SANDBOX_FROM_NUMBER, "please stop calling").auto_reply is None
        assert provider.send(sms("rk-not-a-keyword")).outcome is SendOutcome.ACCEPTED
    assert [a.form()["Body"] for a in receiver.on(INBOUND_SMS_PATH)] == [
        " stop. ",
        "HELP",
        "Start",
        "please stop calling",
    ]


def test_an_injected_email_is_an_inbound_parse_form_with_basic_auth_from_its_url(receiver: Receiver) -> None:
    parse_url = receiver.url(INBOUND_EMAIL_PATH).replace("http://", "http://parse:s3cr%40t@")
    receiver.answer = lambda _arrival: (200, "text/plain", b"ok")
    with posting_to(receiver, sendgrid_inbound_url=parse_url) as sandbox:
        assert sandbox.control.webhooks()["urls"]["sendgrid_inbound_url"] == receiver.url(INBOUND_EMAIL_PATH)
        answer = sandbox.control.inject_email(
            "Jane Doe <jane.doe@example.org>",
            "replies@reminders.example.com",
            "Re: Invoice INV-1 — déjà payé",
            "I paid it last Friday.",
            html="<p>I paid it last Friday.</p>",
            headers={"In-Reply-To": "<rk-1@reminders.example.com>"},
        )
    [arrival] = receiver.on(INBOUND_EMAIL_PATH)
    assert arrival.url == receiver.url(INBOUND_EMAIL_PATH)
    assert arrival.headers["Authorization"] == "Basic " + base64.b64encode(b"parse:s3cr@t").decode()
    assert arrival.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    fields = arrival.multipart()
    assert set(fields) >= PARSE_FIELDS
    assert (fields["from"], fields["to"], fields["subject"]) == (
        "Jane Doe <jane.doe@example.org>",
        "replies@reminders.example.com",
        "Re: Invoice INV-1 — déjà payé",
    )
    assert (fields["text"], fields["html"], fields["attachments"]) == (
        "I paid it last Friday.",
        "<p>I paid it last Friday.</p>",
        "0",
    )
    assert json.loads(fields["envelope"]) == {"to": ["replies@reminders.example.com"], "from": "jane.doe@example.org"}
    assert "In-Reply-To: <rk-1@reminders.example.com>" in fields["headers"].splitlines()
    assert f"Message-ID: {answer.message_id}" in fields["headers"].splitlines()
    assert (answer.status, answer.body, answer.error) == (200, "ok", None)


def test_what_the_receiver_refuses_comes_back_as_its_answer(receiver: Receiver) -> None:
    receiver.answer = lambda _arrival: (401, "text/plain", b"unsigned")
    with posting_to(receiver) as sandbox:
        answer = sandbox.control.inject_sms(MOBILE, SANDBOX_FROM_NUMBER, "hi")
        counts = sandbox.control.webhooks()["counts"]["twilio_inbound"]
    assert (answer.status, answer.body) == (401, "unsigned")
    assert len(receiver.arrivals) == 1, "an injected message is posted once: the caller sees the answer"
    assert (counts["posted"], counts["refused"]) == (1, 1)


def test_a_receiver_that_is_down_is_an_answer_without_a_status() -> None:
    with receiving() as gone:
        url = gone.url(INBOUND_SMS_PATH)
    with running_sandbox(SandboxConfig(credentials=DEMO_CREDENTIALS, twilio_inbound_url=url)) as sandbox:
        answer = sandbox.control.inject_sms(MOBILE, SANDBOX_FROM_NUMBER, "hi")
    assert answer.status is None
    assert answer.error is not None


def test_injection_without_a_url_or_with_a_bad_body_is_refused_with_the_reason(sandbox: RunningSandbox) -> None:
    with pytest.raises(SandboxControlError, match="no twilio_inbound_url is set"):
        sandbox.control.inject_sms(MOBILE, SANDBOX_FROM_NUMBER, "hi")
    with pytest.raises(SandboxControlError, match="no sendgrid_inbound_url is set"):
        sandbox.control.inject_email("jane@example.org", "replies@example.com", "Re", "hi")
    sandbox.control.set_webhook_urls(twilio_inbound_url="http://127.0.0.1:9/x", sendgrid_inbound_url="http://h/y")
    with pytest.raises(SandboxControlError, match="body"):
        sandbox.control.inject_sms(MOBILE, SANDBOX_FROM_NUMBER, "")
    with pytest.raises(SandboxControlError, match="from must be an email address"):
        sandbox.control.inject_email("not an address", "replies@example.com", "Re", "hi")
    with pytest.raises(SandboxControlError, match="headers"):
        sandbox.control.inject_email("jane@example.org", "replies@example.com", "Re", "hi", headers={"X": 1})  # type: ignore[dict-item]
    with pytest.raises(SandboxControlError, match="any of"):
        sandbox.control._call("PUT", "/webhooks", {"status_url": "http://x/"})
