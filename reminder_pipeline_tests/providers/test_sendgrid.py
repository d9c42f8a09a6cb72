"""SendGridProvider on the official SDK against the sandbox over HTTP: every outcome, and the lookup."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from reminder_pipeline.providers.base import ContactProblem, SendOutcome, is_configuration_error
from reminder_pipeline.providers.sandbox import RunningSandbox, SandboxConfig, running_sandbox
from reminder_pipeline.providers.sendgrid import SendGridProvider
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS
from reminder_pipeline_tests.providers.helpers import SENDER, email, sendgrid_at, sms


def test_an_accepted_email_carries_both_parts_the_unsubscribe_headers_categories_and_the_key(
    sandbox: RunningSandbox,
) -> None:
    result = sendgrid_at(sandbox).send(email("rk-1"))
    assert result.outcome is SendOutcome.ACCEPTED
    assert result.http_status == 202
    [kept] = sandbox.control.messages()
    assert result.provider_id == kept["provider_id"]
    assert (kept["channel"], kept["to"], kept["from"], kept["from_name"]) == (
        "email",
        "jane.doe@example.org",
        SENDER,
        "Accounts Receivable",
    )
    assert kept["subject"] == "Invoice INV-1 is due"
    assert kept["body"] == "Your invoice INV-1 is due on 1 March."
    assert kept["html"] == "<p>Your invoice <b>INV-1</b> is due on 1 March.</p>"
    assert kept["headers"] == {
        "List-Unsubscribe": "<https://pay.example.com/unsubscribe?token=abc>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert kept["categories"] == ["courtesy", "step-1"]
    assert (kept["reminder_key"], kept["custom_args"]) == ("rk-1", {"reminder_key": "rk-1"})
    assert datetime.fromisoformat(kept["accepted_at"]).utcoffset() is not None


def test_a_message_without_html_or_unsubscribe_link_has_neither(sandbox: RunningSandbox) -> None:
    message = email("rk-plain", body_html=None, unsubscribe_url=None, categories=(), from_name="Acme Billing")
    assert sendgrid_at(sandbox).send(message).outcome is SendOutcome.ACCEPTED
    [kept] = sandbox.control.messages()
    assert (kept["html"], kept["headers"], kept["categories"], kept["from_name"]) == (None, {}, [], "Acme Billing")


def test_an_address_sendgrid_refuses_is_rejected_as_an_invalid_address(sandbox: RunningSandbox) -> None:
    result = sendgrid_at(sandbox).send(email(to="jane@localhost"))
    assert (result.outcome, result.http_status, result.error_code) == (SendOutcome.REJECTED, 400, "400")
    assert result.contact_problem is ContactProblem.INVALID_ADDRESS
    assert "personalizations.0.to.0.email" in result.detail
    assert "jane" not in result.detail
    assert sandbox.control.messages() == []


def test_an_address_the_sdk_cannot_write_is_rejected_without_a_request(sandbox: RunningSandbox) -> None:
    result = sendgrid_at(sandbox).send(email(to="not an address"))
    assert (result.outcome, result.contact_problem) == (SendOutcome.REJECTED, ContactProblem.INVALID_ADDRESS)
    assert sandbox.control.stats()["sendgrid"]["requests"] == 0


def test_a_wrong_key_is_a_401_configuration_error(sandbox: RunningSandbox) -> None:
    result = sendgrid_at(sandbox, api_key="SG.someone-else").send(email())
    assert (result.outcome, result.http_status, result.error_code) == (SendOutcome.REJECTED, 401, "401")
    assert is_configuration_error(result)
    assert sandbox.control.stats()["sendgrid"]["unauthorized"] == 1


def test_a_403_is_a_configuration_error_and_a_413_is_not() -> None:
    config = SandboxConfig(credentials=DEMO_CREDENTIALS, faults="email_error_403=1", max_email_bytes=2000)
    with running_sandbox(config) as sandbox:
        forbidden = sendgrid_at(sandbox).send(email())
        assert (forbidden.outcome, forbidden.error_code) == (SendOutcome.REJECTED, "403")
        assert is_configuration_error(forbidden)
        sandbox.control.set_faults("")
        too_large = sendgrid_at(sandbox).send(email(body_text="x" * 5000))
        assert (too_large.outcome, too_large.http_status) == (SendOutcome.REJECTED, 413)
        assert not is_configuration_error(too_large)
        assert too_large.contact_problem is None
        assert sandbox.control.messages() == []


def test_a_429_is_retried_after_the_rate_limit_reset(sandbox: RunningSandbox) -> None:
    sandbox.control.set_faults("rate_limit=1/min")
    provider = sendgrid_at(sandbox)
    assert provider.send(email("rk-a")).outcome is SendOutcome.ACCEPTED
    limited = provider.send(email("rk-b"))
    assert (limited.outcome, limited.http_status) == (SendOutcome.RETRY, 429)
    assert limited.retry_after is not None
    assert 1 < limited.retry_after <= 61  # the minute's window, opened by the first send, is still shut
    assert [m["reminder_key"] for m in sandbox.control.messages()] == ["rk-a"]
    assert sandbox.control.stats()["sendgrid"]["rate_limited"] == 1


def test_a_server_error_is_retried_and_nothing_is_kept(sandbox: RunningSandbox) -> None:
    sandbox.control.set_faults("error_rate=1")
    result = sendgrid_at(sandbox).send(email())
    assert (result.outcome, result.http_status, result.error_code) == (SendOutcome.RETRY, 500, "500")
    assert sandbox.control.messages() == []


def test_a_refused_connection_is_retried() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = SendGridProvider("SG.x", SENDER, base_url=f"http://127.0.0.1:{port}")
    assert provider.send(email()).outcome is SendOutcome.RETRY


def test_a_timeout_after_accept_is_unknown_and_the_lookup_finds_the_message(sandbox: RunningSandbox) -> None:
    sandbox.control.set_faults("timeout_rate=1,hold_ms=5000")
    provider = sendgrid_at(sandbox, timeout=0.5)
    since = datetime.now(UTC)
    result = provider.send(email("rk-timeout"))
    assert result.outcome is SendOutcome.UNKNOWN
    assert result.provider_id is None
    [kept] = sandbox.control.messages()
    found = provider.lookup(email("rk-timeout"), since)
    assert (found.found, found.provider_id, found.provider_status) == (True, kept["provider_id"], "delivered")


def test_a_connection_dropped_before_accept_is_unknown_and_the_lookup_finds_nothing(sandbox: RunningSandbox) -> None:
    sandbox.control.set_faults("drop_rate=1")
    provider = sendgrid_at(sandbox)
    since = datetime.now(UTC)
    assert provider.send(email("rk-drop")).outcome is SendOutcome.UNKNOWN
    assert provider.lookup(email("rk-drop"), since).found is None  # the search itself is dropped: cannot tell
    sandbox.control.set_faults("")
    assert provider.lookup(email("rk-drop"), since).found is False
    assert sandbox.control.messages() == []


def test_the_lookup_tells_messages_apart_by_reminder_key(sandbox: RunningSandbox) -> None:
    provider = sendgrid_at(sandbox)
    first, second = provider.send(email("rk-one")), provider.send(email("rk-two"))
    since = datetime.now(UTC)
    assert provider.lookup(email("rk-two"), since).provider_id == second.provider_id != first.provider_id
    assert provider.lookup(email('rk-"three"'), since).found is False


def test_the_lookup_cannot_tell_with_a_wrong_key(sandbox: RunningSandbox) -> None:
    found = sendgrid_at(sandbox, api_key="SG.wrong").lookup(email(), datetime.now(UTC))
    assert found.found is None
    assert "401" in found.detail


def test_sms_is_not_sendgrids_channel(sandbox: RunningSandbox) -> None:
    with pytest.raises(ValueError, match="email"):
        sendgrid_at(sandbox).send(sms())
