"""SendGrid's signed event webhook from the sandbox, sent by the SDK's provider, verified by the SDK's helper."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
import python_http_client.exceptions as http_errors
import sendgrid

from reminder_pipeline.providers.base import SendOutcome
from reminder_pipeline.providers.sandbox import RunningSandbox, SandboxControlError, running_sandbox
from reminder_pipeline.providers.sandbox.signing import KEY_FILE_NAME
from reminder_pipeline.providers.sandbox.state import SandboxConfig
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS
from reminder_pipeline_tests.providers.helpers import email, sendgrid_at
from reminder_pipeline_tests.providers.sandbox.conftest import EVENTS_PATH, posting_to
from reminder_pipeline_tests.providers.sandbox.receiver import Arrival, Receiver

COMMON = {"email", "timestamp", "event", "smtp-id", "sg_event_id", "sg_message_id", "category", "reminder_key"}
LINKED = "<p>Pay <a href='https://pay.example.com/i/INV-1'>here</a>.</p>"


def _events(receiver: Receiver, sandbox: RunningSandbox, count: int) -> list[dict[str, Any]]:
    sandbox.control.wait_for_webhooks()
    events = [e for a in receiver.on(EVENTS_PATH) for e in a.events()]
    assert len(events) == count, [e["event"] for e in events]
    return events


def test_an_accepted_email_is_processed_then_delivered_in_a_signed_batch(receiver: Receiver) -> None:
    with posting_to(receiver) as sandbox:
        result = sendgrid_at(sandbox).send(email("rk-1"))
        assert result.outcome is SendOutcome.ACCEPTED
        processed, delivered = _events(receiver, sandbox, 2)
        public_key = sandbox.control.webhook_public_key()
    [batch] = receiver.on(EVENTS_PATH)
    assert batch.headers["Content-Type"].startswith("application/json")
    assert batch.body.endswith(b"]\r\n")
    assert batch.sendgrid_signed(public_key)
    assert [processed["event"], delivered["event"]] == ["processed", "delivered"]
    for event in (processed, delivered):
        assert set(event) >= COMMON
        assert event["sg_message_id"].startswith(f"{result.provider_id}.")
        assert (event["email"], event["reminder_key"], event["category"]) == (
            "jane.doe@example.org",
            "rk-1",
            ["courtesy", "step-1"],
        )
        assert isinstance(event["timestamp"], int)
    assert processed["sg_event_id"] != delivered["sg_event_id"]
    assert delivered["response"].startswith("250")


def test_a_changed_body_or_timestamp_fails_the_sdks_verification(receiver: Receiver) -> None:
    with posting_to(receiver) as sandbox:
        sendgrid_at(sandbox).send(email("rk-1"))
        _events(receiver, sandbox, 2)
        public_key = sandbox.control.webhook_public_key()
    [batch] = receiver.on(EVENTS_PATH)
    reserialised = json.dumps(batch.events()).encode()
    stamp = int(batch.headers["X-Twilio-Email-Event-Webhook-Timestamp"])
    assert batch.sendgrid_signed(public_key)
    assert not Arrival(batch.url, batch.headers, reserialised, batch.at).sendgrid_signed(public_key)
    batch.headers.replace_header("X-Twilio-Email-Event-Webhook-Timestamp", str(stamp + 1))
    assert not batch.sendgrid_signed(public_key)


def test_the_public_key_is_served_as_sendgrid_serves_it(hooked: RunningSandbox) -> None:
    client = sendgrid.SendGridAPIClient(DEMO_CREDENTIALS.sendgrid_api_key, host=hooked.url).client
    signed = json.loads(client.user.webhooks.event.settings.signed.get().body)
    assert signed == {"enabled": True, "public_key": hooked.control.webhook_public_key()}
    refused = sendgrid.SendGridAPIClient("SG.wrong", host=hooked.url).client
    with pytest.raises(http_errors.UnauthorizedError):
        refused.user.webhooks.event.settings.signed.get()


@pytest.mark.parametrize(
    ("faults", "names", "details"),
    [
        ("bounce_rate=1", ["processed", "bounce"], {"bounce": {"type": "bounce", "status": "5.1.1"}}),
        ("blocked_rate=1", ["processed", "bounce"], {"bounce": {"type": "blocked", "status": "5.7.1"}}),
        ("dropped_rate=1", ["processed", "dropped"], {"dropped": {"reason": "Bounced Address"}}),
        ("deferred_rate=1", ["processed", "deferred", "delivered"], {"deferred": {"attempt": "1"}}),
        (
            "open_rate=1,click_rate=1,spamreport_rate=1,unsubscribe_rate=1",
            ["processed", "delivered", "open", "click", "spamreport", "unsubscribe"],
            {"click": {"url": "https://pay.example.com/i/INV-1"}},
        ),
    ],
)
def test_each_event_kind_has_its_fields(
    receiver: Receiver, faults: str, names: list[str], details: dict[str, dict[str, Any]]
) -> None:
    with posting_to(receiver, faults) as sandbox:
        sendgrid_at(sandbox).send(email("rk-1", body_html=LINKED))
        events = _events(receiver, sandbox, len(names))
        [kept] = sandbox.control.messages(reminder_key="rk-1")
    assert [e["event"] for e in events] == names == kept["events"]
    assert all(set(e) >= COMMON for e in events)
    by_name = {e["event"]: e for e in events}
    for name, fields in details.items():
        assert fields.items() <= by_name[name].items()
    assert kept["status"] == ("delivered" if "delivered" in names else "not_delivered")
    if "bounce" in by_name:
        assert by_name["bounce"]["reason"].startswith("550")
        assert kept["bounce_type"] == by_name["bounce"]["type"]
    if "deferred" in by_name:
        assert by_name["deferred"]["response"].startswith("451")
    if "open" in by_name:
        assert "useragent" in by_name["open"]


def test_a_click_needs_a_link_and_the_activity_search_counts_opens_and_clicks(receiver: Receiver) -> None:
    with posting_to(receiver, "open_rate=1,click_rate=1") as sandbox:
        provider = sendgrid_at(sandbox)
        provider.send(email("rk-plain", body_html=None, body_text="No link here."))
        provider.send(email("rk-linked", body_html=LINKED))
        sandbox.control.wait_for_webhooks()
        client = sendgrid.SendGridAPIClient(DEMO_CREDENTIALS.sendgrid_api_key, host=sandbox.url).client
        rows = {
            key: client.messages.get(query_params={"query": f"unique_args['reminder_key']=\"{key}\""}).to_dict[
                "messages"
            ][0]
            for key in ("rk-plain", "rk-linked")
        }
    assert [(r["status"], r["opens_count"], r["clicks_count"]) for r in rows.values()] == [
        ("delivered", 1, 0),
        ("delivered", 1, 1),
    ]
    names: dict[str, list[str]] = {}
    for event in (e for a in receiver.on(EVENTS_PATH) for e in a.events()):
        names.setdefault(event["reminder_key"], []).append(event["event"])
    assert names == {
        "rk-plain": ["processed", "delivered", "open"],
        "rk-linked": ["processed", "delivered", "open", "click"],
    }


def test_the_events_url_is_set_at_run_time_by_the_control_api_or_sendgrids_settings_api(receiver: Receiver) -> None:
    with running_sandbox(SandboxConfig(credentials=DEMO_CREDENTIALS, event_batch_seconds=0.02)) as sandbox:
        sendgrid_at(sandbox).send(email("rk-nowhere"))
        assert sandbox.control.wait_for_webhooks()["counts"]["sendgrid_events"]["no_url"] == 2
        urls = sandbox.control.set_webhook_urls(sendgrid_events_url=receiver.url(EVENTS_PATH))
        assert urls["sendgrid_events_url"] == receiver.url(EVENTS_PATH)
        sendgrid_at(sandbox).send(email("rk-control"))
        sandbox.control.wait_for_webhooks()
        client = sendgrid.SendGridAPIClient(DEMO_CREDENTIALS.sendgrid_api_key, host=sandbox.url).client
        changed = json.loads(client.user.webhooks.event.settings.patch(request_body={"enabled": False}).body)
        assert (changed["enabled"], changed["url"]) == (False, "")
        sendgrid_at(sandbox).send(email("rk-disabled"))
        sandbox.control.wait_for_webhooks()
        client.user.webhooks.event.settings.patch(request_body={"enabled": True, "url": receiver.url("/other")})
        sendgrid_at(sandbox).send(email("rk-settings"))
        sandbox.control.wait_for_webhooks()
        with pytest.raises(SandboxControlError, match="http"):
            sandbox.control.set_webhook_urls(sendgrid_events_url="ftp://nowhere")
    keys = [(a.path, e["reminder_key"]) for a in receiver.arrivals for e in a.events()]
    assert keys == [(EVENTS_PATH, "rk-control")] * 2 + [("/other", "rk-settings")] * 2


def test_the_key_pair_is_kept_next_to_the_journal_for_the_owner_only(tmp_path: Path) -> None:
    config = SandboxConfig(credentials=DEMO_CREDENTIALS, log_path=tmp_path / "sandbox" / "messages.jsonl")
    with running_sandbox(config) as first:
        key = first.control.webhook_public_key()
    kept = tmp_path / "sandbox" / KEY_FILE_NAME
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    with running_sandbox(config) as second:
        assert second.control.webhook_public_key() == key
    with running_sandbox(SandboxConfig(credentials=DEMO_CREDENTIALS)) as in_memory:
        assert in_memory.control.webhook_public_key() != key


def test_custom_args_are_at_the_top_level_but_never_over_sendgrids_own_fields(receiver: Receiver) -> None:
    mail = {
        "personalizations": [{"to": [{"email": "joe@example.org"}], "custom_args": {"invoice": "INV-9"}}],
        "from": {"email": "billing@example.com"},
        "subject": "Invoice",
        "content": [{"type": "text/plain", "value": "Due."}],
        "custom_args": {"reminder_key": "rk-raw", "email": "spoofed@example.net", "event": "spoofed"},
        "categories": ["step-2"],
    }
    with posting_to(receiver) as sandbox:
        client = sendgrid.SendGridAPIClient(DEMO_CREDENTIALS.sendgrid_api_key, host=sandbox.url)
        assert client.send(mail).status_code == 202
        processed, delivered = _events(receiver, sandbox, 2)
    assert (processed["email"], processed["event"], delivered["event"]) == ("joe@example.org", "processed", "delivered")
    assert (processed["reminder_key"], processed["invoice"], processed["category"]) == ("rk-raw", "INV-9", ["step-2"])
