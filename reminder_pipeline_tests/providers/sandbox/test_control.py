"""The /sandbox endpoints: the message log as DESIGN.md specifies it, the clock, the counters."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta, timezone

import pytest

from reminder_pipeline.providers.base import SendOutcome
from reminder_pipeline.providers.sandbox import RunningSandbox, SandboxControl, SandboxControlError
from reminder_pipeline_tests.providers.helpers import email, sendgrid_at, sms, twilio_at

LOG_FIELDS = {"channel", "to", "from", "subject", "body", "provider_id", "reminder_key", "accepted_at"}


def _get(url: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_log_is_a_json_array_of_every_accepted_message_with_the_designed_fields(sandbox: RunningSandbox) -> None:
    sendgrid_at(sandbox).send(email("rk-email"))
    twilio_at(sandbox).send(sms("rk-sms"))
    twilio_at(sandbox).send(sms("rk-refused", to="+15005550001"))
    status, log = _get(f"{sandbox.url}/sandbox/messages")
    assert status == 200
    assert isinstance(log, list)
    assert [(m["channel"], m["reminder_key"]) for m in log] == [("email", "rk-email"), ("sms", "rk-sms")]
    for message in log:
        assert set(message) >= LOG_FIELDS
        assert {"status_callback", "html", "headers", "categories"} <= set(message)
        assert datetime.fromisoformat(message["accepted_at"]).utcoffset() is not None
    assert [m["reminder_key"] for m in sandbox.control.messages(channel="sms")] == ["rk-sms"]
    assert [m["channel"] for m in sandbox.control.messages(reminder_key="rk-email")] == ["email"]


def test_delete_resets_the_log(sandbox: RunningSandbox) -> None:
    twilio_at(sandbox).send(sms())
    assert sandbox.control.reset() == 1
    assert sandbox.control.messages() == []


def test_messages_are_stamped_with_the_sandbox_clock(sandbox: RunningSandbox) -> None:
    simulated = datetime(2024, 3, 4, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    assert abs(sandbox.control.set_clock(simulated) - simulated) < timedelta(minutes=1)
    sendgrid_at(sandbox).send(email("rk-then"))
    twilio_at(sandbox).send(sms("rk-then"))
    for message in sandbox.control.messages():
        stamped = datetime.fromisoformat(message["accepted_at"])
        assert simulated <= stamped < simulated + timedelta(minutes=1)
    sandbox.control.set_clock(None)
    assert abs(sandbox.control.clock() - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_clock_without_an_offset_or_a_bad_body_is_refused(sandbox: RunningSandbox) -> None:
    with pytest.raises(SandboxControlError, match="offset"):
        sandbox.control.set_clock(datetime(2024, 3, 4, 9, 30))
    request = urllib.request.Request(f"{sandbox.url}/sandbox/faults", data=b"[]", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400


def test_stats_count_requests_per_provider_and_outcome(sandbox: RunningSandbox) -> None:
    twilio_at(sandbox).send(sms())
    twilio_at(sandbox).send(sms(to="+15005550004"))
    sandbox.control.set_faults("drop_rate=1")
    assert sendgrid_at(sandbox).send(email()).outcome is SendOutcome.UNKNOWN
    stats = sandbox.control.stats()
    assert (stats["twilio"]["requests"], stats["twilio"]["accepted"], stats["twilio"]["rejected"]) == (2, 1, 1)
    assert (stats["sendgrid"]["requests"], stats["sendgrid"]["dropped"], stats["sendgrid"]["accepted"]) == (1, 1, 0)
    sandbox.control.reset_stats()
    assert sandbox.control.stats()["twilio"]["requests"] == 0


def test_unknown_paths_and_methods_are_refused(sandbox: RunningSandbox) -> None:
    assert _get(f"{sandbox.url}/sandbox/nothing")[0] == 404
    assert _get(f"{sandbox.url}/elsewhere")[0] == 404
    request = urllib.request.Request(f"{sandbox.url}/sandbox/messages", data=b"{}", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 405


def test_a_control_for_a_sandbox_that_is_gone_says_so() -> None:
    with pytest.raises(SandboxControlError, match="does not answer"):
        SandboxControl("http://127.0.0.1:9", timeout=2).messages()
