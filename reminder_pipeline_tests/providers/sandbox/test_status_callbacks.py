"""Twilio status callbacks from the sandbox, sent by the official SDK's provider and checked by its validator."""

from __future__ import annotations

import re
import threading

from twilio.request_validator import RequestValidator
from twilio.rest import Client

from reminder_pipeline.providers.base import SendOutcome
from reminder_pipeline.providers.sandbox import running_sandbox
from reminder_pipeline.providers.sandbox.fates import UNDELIVERED_CODES
from reminder_pipeline.providers.sandbox.state import SandboxConfig
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS, SANDBOX_FROM_NUMBER
from reminder_pipeline.providers.twilio import RebasedTwilioHttpClient
from reminder_pipeline_tests.providers.helpers import MOBILE, sms, twilio_at
from reminder_pipeline_tests.providers.sandbox.conftest import STATUS_PATH, posting_to
from reminder_pipeline_tests.providers.sandbox.receiver import Receiver, receiving

DOCUMENTED = {"AccountSid", "From", "To", "MessageSid", "MessageStatus", "SmsSid", "SmsStatus", "ApiVersion"}
DLR_DATE = re.compile(r"^\d{10}$")


def test_an_accepted_sms_gets_sent_then_delivered_signed_with_the_documented_parameters(receiver: Receiver) -> None:
    with posting_to(receiver) as sandbox:
        result = twilio_at(sandbox, callback_base=receiver.base).send(sms("rk-1"))
        assert result.outcome is SendOutcome.ACCEPTED
        sent, delivered = receiver.wait_for(2, STATUS_PATH)
        sandbox.control.wait_for_webhooks()
    assert len(receiver.arrivals) == 2, "no callback for the initial status, one for each later status"
    assert [a.form()["MessageStatus"] for a in (sent, delivered)] == ["sent", "delivered"]
    for arrival in (sent, delivered):
        params = arrival.form()
        assert set(params) >= DOCUMENTED
        assert arrival.query["reminder_key"] == ["rk-1"]
        assert arrival.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
        assert arrival.twilio_signed()
        assert not arrival.twilio_signed("another-auth-token")
        assert (params["MessageSid"], params["SmsSid"]) == (result.provider_id, result.provider_id)
        assert params["SmsStatus"] == params["MessageStatus"]
        assert (params["AccountSid"], params["To"], params["From"]) == (
            DEMO_CREDENTIALS.twilio_account_sid,
            MOBILE,
            SANDBOX_FROM_NUMBER,
        )
        assert (params["ApiVersion"], "ErrorCode" in params) == ("2010-04-01", False)
    assert "RawDlrDoneDate" not in sent.form()
    assert DLR_DATE.match(delivered.form()["RawDlrDoneDate"])
    assert sent.headers["I-Twilio-Idempotency-Token"] != delivered.headers["I-Twilio-Idempotency-Token"]


def test_a_changed_parameter_or_url_fails_the_sdks_validation(receiver: Receiver) -> None:
    with posting_to(receiver) as sandbox:
        twilio_at(sandbox, callback_base=receiver.base).send(sms("rk-1"))
        arrival = receiver.wait_for(1, STATUS_PATH)[0]
    validator = RequestValidator(DEMO_CREDENTIALS.twilio_auth_token)
    signature = arrival.headers["X-Twilio-Signature"]
    assert validator.validate(arrival.url, arrival.form(), signature)
    assert not validator.validate(arrival.url, {**arrival.form(), "MessageStatus": "failed"}, signature)
    assert not validator.validate(arrival.url.replace("rk-1", "rk-2"), arrival.form(), signature)


def test_undelivered_and_failed_carry_an_error_code_and_the_lookup_shows_the_final_status(receiver: Receiver) -> None:
    with posting_to(receiver, "undelivered_rate=1") as sandbox:
        provider = twilio_at(sandbox, callback_base=receiver.base)
        result = provider.send(sms("rk-undelivered"))
        sent, undelivered = receiver.wait_for(2, STATUS_PATH)
        assert [a.form()["MessageStatus"] for a in (sent, undelivered)] == ["sent", "undelivered"]
        assert "ErrorCode" not in sent.form()
        code = int(undelivered.form()["ErrorCode"])
        assert code in UNDELIVERED_CODES
        assert DLR_DATE.match(undelivered.form()["RawDlrDoneDate"])
        [kept] = sandbox.control.messages(reminder_key="rk-undelivered")
        assert (kept["status"], kept["error_code"], kept["events"]) == ("undelivered", code, ["sent", "undelivered"])
        found = provider.lookup(sms("rk-undelivered"), since=sandbox.control.clock())
        assert (found.found, found.provider_id, found.provider_status) == (True, result.provider_id, "undelivered")
        sandbox.control.set_faults("failed_rate=1")
        provider.send(sms("rk-failed"))
        failed = receiver.wait_for(3, STATUS_PATH)[2]
    assert (failed.form()["MessageStatus"], failed.form()["ErrorCode"]) == ("failed", "30036")
    assert "RawDlrDoneDate" not in failed.form()


def test_a_message_without_a_status_callback_gets_none(receiver: Receiver) -> None:
    with posting_to(receiver) as sandbox:
        client = Client(
            DEMO_CREDENTIALS.twilio_account_sid,
            DEMO_CREDENTIALS.twilio_auth_token,
            http_client=RebasedTwilioHttpClient(sandbox.url, timeout=5, pool_size=1),
        )
        client.messages.create(to=MOBILE, from_=SANDBOX_FROM_NUMBER, body="no callback")
        answer = sandbox.control.wait_for_webhooks()
    assert receiver.arrivals == []
    assert answer["counts"]["twilio_status"]["posted"] == 0


def test_a_receiver_answering_non_2xx_is_retried_with_the_same_callback(receiver: Receiver) -> None:
    answered = {"n": 0}

    def fail_twice(_arrival: object) -> tuple[int, str, bytes]:
        answered["n"] += 1
        return (503, "text/plain", b"busy") if answered["n"] <= 2 else (200, "text/plain", b"")

    receiver.answer = fail_twice
    with posting_to(receiver) as sandbox:
        twilio_at(sandbox, callback_base=receiver.base).send(sms("rk-retried"))
        counts = sandbox.control.wait_for_webhooks()["counts"]["twilio_status"]
    first, second, third, delivered = receiver.arrivals
    assert [a.form()["MessageStatus"] for a in receiver.arrivals] == ["sent", "sent", "sent", "delivered"]
    assert first.body == second.body == third.body
    assert {a.headers["I-Twilio-Idempotency-Token"] for a in (first, second, third)} == {
        first.headers["I-Twilio-Idempotency-Token"]
    }
    assert first.at < second.at < third.at < delivered.at
    assert (counts["posted"], counts["refused"], counts["retried"], counts["acknowledged"]) == (4, 2, 2, 2)


def test_a_receiver_that_never_accepts_is_given_up_after_the_retries(receiver: Receiver) -> None:
    receiver.answer = lambda _arrival: (500, "text/plain", b"down")
    with posting_to(receiver, webhook_retries=2) as sandbox:
        twilio_at(sandbox, callback_base=receiver.base).send(sms("rk-refused"))
        counts = sandbox.control.wait_for_webhooks()["counts"]["twilio_status"]
    assert [a.form()["MessageStatus"] for a in receiver.arrivals] == ["sent"] * 3 + ["delivered"] * 3
    assert (counts["posted"], counts["retried"], counts["gave_up"], counts["acknowledged"]) == (6, 4, 2, 0)


def test_a_receiver_that_is_down_does_not_break_the_sandbox() -> None:
    with receiving() as gone:
        base = gone.base
    with running_sandbox(SandboxConfig(credentials=DEMO_CREDENTIALS, webhook_backoff_seconds=0.01)) as sandbox:
        provider = twilio_at(sandbox, callback_base=base)
        results = [provider.send(sms(f"rk-{i}")) for i in range(5)]
        counts = sandbox.control.wait_for_webhooks()["counts"]["twilio_status"]
        assert all(r.outcome is SendOutcome.ACCEPTED for r in results)
        assert len(sandbox.control.messages()) == 5
    assert (counts["unreachable"], counts["gave_up"], counts["acknowledged"]) == (40, 10, 0)


def test_the_send_is_answered_while_its_callbacks_wait_on_a_stuck_receiver(receiver: Receiver) -> None:
    receiver.hold = threading.Event()
    with posting_to(receiver) as sandbox:
        provider = twilio_at(sandbox, callback_base=receiver.base)
        first = provider.send(sms("rk-1"))
        receiver.wait_for(1, STATUS_PATH)  # the sandbox is now waiting on the receiver
        second = provider.send(sms("rk-2"))
        assert not receiver.hold.is_set()
        assert (first.outcome, second.outcome) == (SendOutcome.ACCEPTED, SendOutcome.ACCEPTED)
        receiver.hold.set()
        receiver.wait_for(4, STATUS_PATH)
        sandbox.control.wait_for_webhooks()


def test_stopping_the_sandbox_ends_its_webhook_threads_with_callbacks_due_and_in_flight(receiver: Receiver) -> None:
    receiver.hold = threading.Event()
    with posting_to(receiver) as sandbox:
        provider = twilio_at(sandbox, callback_base=receiver.base)
        provider.send(sms("rk-stuck"))
        receiver.wait_for(1, STATUS_PATH)  # in flight: the receiver holds it
        sandbox.control.set_faults("callback_delay_ms=60000")
        provider.send(sms("rk-late"))
        assert sandbox.control.webhooks()["pending"] >= 2
        threads = list(sandbox.state.webhooks.scheduler._threads)
        assert threads
    assert not any(thread.is_alive() for thread in threads)
    assert [a.query["reminder_key"] for a in receiver.arrivals] == [["rk-stuck"]]


def test_a_message_from_a_messaging_service_names_it_and_its_pooled_sender(receiver: Receiver) -> None:
    service = "MG" + "0" * 32
    with posting_to(receiver) as sandbox:
        provider = twilio_at(sandbox, from_number=None, messaging_service_sid=service, callback_base=receiver.base)
        assert provider.send(sms("rk-pooled")).provider_status == "accepted"
        sent, delivered = receiver.wait_for(2, STATUS_PATH)
    for arrival in (sent, delivered):
        assert (arrival.form()["MessagingServiceSid"], arrival.form()["From"]) == (service, SANDBOX_FROM_NUMBER)
        assert arrival.twilio_signed()
