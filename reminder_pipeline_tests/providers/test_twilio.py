"""TwilioProvider on the official SDK against the sandbox over HTTP: every outcome, and the lookup."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from reminder_pipeline.providers.base import ContactProblem, SendOutcome, is_configuration_error
from reminder_pipeline.providers.sandbox import RunningSandbox
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS, SANDBOX_FROM_NUMBER
from reminder_pipeline.providers.twilio import TwilioProvider
from reminder_pipeline_tests.providers.helpers import CALLBACK_BASE, MOBILE, email, sms, twilio_at

SERVICE_SID = "MG" + "0123456789abcdef" * 2


def test_an_accepted_sms_carries_the_reminder_key_in_its_status_callback(sandbox: RunningSandbox) -> None:
    result = twilio_at(sandbox).send(sms("invoice/INV 1&step=2"))
    assert (result.outcome, result.http_status, result.provider_status) == (SendOutcome.ACCEPTED, 201, "queued")
    [kept] = sandbox.control.messages()
    assert result.provider_id == kept["provider_id"]
    assert result.provider_id is not None
    assert result.provider_id.startswith("SM")
    assert len(result.provider_id) == 34
    assert (kept["channel"], kept["to"], kept["from"], kept["body"]) == (
        "sms",
        MOBILE,
        SANDBOX_FROM_NUMBER,
        "Invoice INV-1 is due on 1 March.",
    )
    callback = urlsplit(kept["status_callback"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == f"{CALLBACK_BASE}/webhooks/twilio/status"
    assert parse_qs(callback.query) == {"reminder_key": ["invoice/INV 1&step=2"]}
    assert kept["reminder_key"] == "invoice/INV 1&step=2"


def test_a_messaging_service_sends_without_a_number(sandbox: RunningSandbox) -> None:
    provider = twilio_at(sandbox, from_number=None, messaging_service_sid=SERVICE_SID)
    result = provider.send(sms())
    assert (result.outcome, result.provider_status) == (SendOutcome.ACCEPTED, "accepted")
    [kept] = sandbox.control.messages()
    assert kept["messaging_service_sid"] == SERVICE_SID


@pytest.mark.parametrize(
    ("to", "code", "problem"),
    [
        ("+15005550001", "21211", ContactProblem.INVALID_ADDRESS),
        ("+15005550002", "21612", ContactProblem.INVALID_ADDRESS),
        ("+15005550003", "21408", None),
        ("+15005550004", "21610", ContactProblem.OPTED_OUT),
        ("+15005550009", "21614", ContactProblem.INVALID_ADDRESS),
        ("0151 1234567", "21211", ContactProblem.INVALID_ADDRESS),
    ],
)
def test_each_magic_recipient_is_rejected_with_its_code(
    sandbox: RunningSandbox, to: str, code: str, problem: ContactProblem | None
) -> None:
    result = twilio_at(sandbox).send(sms(to=to))
    assert (result.outcome, result.http_status, result.error_code) == (SendOutcome.REJECTED, 400, code)
    assert result.contact_problem is problem
    assert not is_configuration_error(result)
    assert to not in result.detail
    assert to[-4:] not in result.detail
    assert sandbox.control.messages() == []


@pytest.mark.parametrize(
    ("sender", "code"), [("+15005550001", "21212"), ("+15005550007", "21606"), ("+15005550008", "21611")]
)
def test_each_magic_sender_is_a_configuration_error(sandbox: RunningSandbox, sender: str, code: str) -> None:
    result = twilio_at(sandbox, from_number=sender).send(sms())
    assert (result.outcome, result.error_code, result.contact_problem) == (SendOutcome.REJECTED, code, None)
    assert is_configuration_error(result)


def test_a_wrong_token_is_a_20003_configuration_error(sandbox: RunningSandbox) -> None:
    result = twilio_at(sandbox, auth_token="not-the-token").send(sms())
    assert (result.outcome, result.http_status, result.error_code) == (SendOutcome.REJECTED, 401, "20003")
    assert is_configuration_error(result)
    assert sandbox.control.stats()["twilio"]["unauthorized"] == 1


def test_a_429_is_retried_after_retry_after(sandbox: RunningSandbox) -> None:
    sandbox.control.set_faults("rate_limit=1/min")
    provider = twilio_at(sandbox)
    assert provider.send(sms("rk-a")).outcome is SendOutcome.ACCEPTED
    limited = provider.send(sms("rk-b"))
    assert (limited.outcome, limited.http_status, limited.error_code) == (SendOutcome.RETRY, 429, "20429")
    assert limited.retry_after is not None
    assert 1 < limited.retry_after <= 60
    assert [m["reminder_key"] for m in sandbox.control.messages()] == ["rk-a"]


def test_an_injected_20429_and_a_server_error_are_retried(sandbox: RunningSandbox) -> None:
    provider = twilio_at(sandbox)
    sandbox.control.set_faults("sms_error_20429=1")
    concurrency = provider.send(sms())
    assert (concurrency.outcome, concurrency.error_code, concurrency.retry_after) == (SendOutcome.RETRY, "20429", None)
    sandbox.control.set_faults("error_rate=1")
    failed = provider.send(sms())
    assert (failed.outcome, failed.http_status, failed.error_code) == (SendOutcome.RETRY, 500, "20500")
    assert sandbox.control.messages() == []


def test_an_injected_opt_out_is_rejected_as_opted_out(sandbox: RunningSandbox) -> None:
    sandbox.control.set_faults("sms_error_21610=1")
    result = twilio_at(sandbox).send(sms())
    assert (result.outcome, result.contact_problem) == (SendOutcome.REJECTED, ContactProblem.OPTED_OUT)


def test_a_refused_connection_is_retried() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = TwilioProvider(
        DEMO_CREDENTIALS.twilio_account_sid,
        DEMO_CREDENTIALS.twilio_auth_token,
        from_number=SANDBOX_FROM_NUMBER,
        base_url=f"http://127.0.0.1:{port}",
        status_callback_base=CALLBACK_BASE,
    )
    assert provider.send(sms()).outcome is SendOutcome.RETRY


def test_a_timeout_after_accept_is_unknown_and_the_lookup_finds_the_message(sandbox: RunningSandbox) -> None:
    sandbox.control.set_faults("timeout_rate=1,hold_ms=5000")
    provider = twilio_at(sandbox, timeout=0.5)
    since = datetime.now(UTC)
    assert provider.send(sms("rk-timeout")).outcome is SendOutcome.UNKNOWN
    [kept] = sandbox.control.messages()
    found = provider.lookup(sms("rk-timeout"), since)
    assert (found.found, found.provider_id, found.provider_status) == (True, kept["provider_id"], "delivered")


def test_a_connection_dropped_before_accept_is_unknown_and_the_lookup_finds_nothing(sandbox: RunningSandbox) -> None:
    sandbox.control.set_faults("drop_rate=1")
    provider = twilio_at(sandbox)
    since = datetime.now(UTC)
    assert provider.send(sms("rk-drop")).outcome is SendOutcome.UNKNOWN
    assert provider.lookup(sms("rk-drop"), since).found is None
    sandbox.control.set_faults("")
    assert provider.lookup(sms("rk-drop"), since).found is False


def test_the_lookup_matches_the_reminder_key_not_the_body(sandbox: RunningSandbox) -> None:
    provider = twilio_at(sandbox)
    first, second = provider.send(sms("rk-one")), provider.send(sms("rk-two"))
    since = datetime.now(UTC) - timedelta(minutes=1)
    assert provider.lookup(sms("rk-two"), since).provider_id == second.provider_id != first.provider_id
    assert provider.lookup(sms("rk-three"), since).found is False
    assert provider.lookup(sms("rk-one", to="+14155550199"), since).found is False


def test_the_lookup_asks_by_recipient_and_stops_at_messages_older_than_the_send(sandbox: RunningSandbox) -> None:
    """No ``DateSent>`` filter: a message still queued at Twilio has no date_sent and would be missed."""
    provider = twilio_at(sandbox)
    assert provider.send(sms("rk-old")).outcome is SendOutcome.ACCEPTED
    assert provider.lookup(sms("rk-old"), datetime.now(UTC) + timedelta(hours=1)).found is True
    assert provider.lookup(sms("rk-other"), datetime.now(UTC) + timedelta(hours=1)).found is False
    assert provider.lookup(sms("rk-other"), datetime.now(UTC) - timedelta(hours=1)).found is False


def test_the_lookup_pages_through_many_messages(sandbox: RunningSandbox) -> None:
    provider = twilio_at(sandbox)
    since = datetime.now(UTC)
    for number in range(60):
        assert provider.send(sms(f"rk-{number}")).outcome is SendOutcome.ACCEPTED
    assert provider.lookup(sms("rk-0"), since).found is True  # the oldest: on the second page


def test_twilio_region_and_edge_cannot_send_the_request_elsewhere(
    sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_REGION", "au1")
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    assert twilio_at(sandbox).send(sms()).outcome is SendOutcome.ACCEPTED


def test_a_sender_and_a_callback_base_are_required() -> None:
    sid, token = DEMO_CREDENTIALS.twilio_account_sid, DEMO_CREDENTIALS.twilio_auth_token
    with pytest.raises(ValueError, match="TWILIO_FROM_NUMBER"):
        TwilioProvider(sid, token, status_callback_base=CALLBACK_BASE)
    with pytest.raises(ValueError, match="REMINDERS_PUBLIC_URL"):
        TwilioProvider(sid, token, from_number=SANDBOX_FROM_NUMBER)


def test_email_is_not_twilios_channel(sandbox: RunningSandbox) -> None:
    with pytest.raises(ValueError, match="SMS"):
        twilio_at(sandbox).send(email())
