"""From send to final status over real HTTP: the sandbox posts signed callbacks and event batches — late,
duplicated and out of order — to the web app, whose inbox runs the processing handlers; and a customer's
STOP, injected as Twilio would post it, stops the next SMS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reminder_pipeline.core.outbox import OUTBOX_LOCK, OutboxStatus
from reminder_pipeline.delivery.service import deliver
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.delivery_events import settle_pending
from reminder_pipeline.listening.handlers import handlers_for
from reminder_pipeline.providers.sendgrid import SendGridProvider
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS, SANDBOX_FROM_NUMBER
from reminder_pipeline.providers.twilio import TwilioProvider
from reminder_pipeline.web import create_app
from reminder_pipeline.web.settings import WebSettings
from reminder_pipeline_tests.delivery.conftest import LIMITS, Clock
from reminder_pipeline_tests.delivery.crowd import POLICY, Person, people, written_day
from reminder_pipeline_tests.delivery.helpers import customer, rows
from reminder_pipeline_tests.web.server import RunningApp

S = OutboxStatus
FAULTS = (
    "seed={seed},undelivered_rate=0.3,bounce_rate=0.2,blocked_rate=0.1,dropped_rate=0.1,deferred_rate=0.3,"
    "open_rate=0.5,click_rate=0.3,webhook_duplicate_rate=0.5,callback_shuffle=1,callback_delay_ms=5"
)
EXPECTED = {"delivered": S.DELIVERED, "undelivered": S.FAILED, "failed": S.FAILED, "not_delivered": S.FAILED}


@pytest.fixture
def web(ledger: Ledger, sandbox) -> Iterator[RunningApp]:  # type: ignore[no-untyped-def]
    settings = WebSettings(
        twilio_auth_token=DEMO_CREDENTIALS.twilio_auth_token,
        sendgrid_public_key=sandbox.control.webhook_public_key(),
    )
    with RunningApp(create_app(ledger.url, settings=settings, handlers=handlers_for(POLICY))) as running:
        sandbox.control.set_webhook_urls(
            sendgrid_events_url=f"{running.url}/webhooks/sendgrid/events",
            twilio_inbound_url=f"{running.url}/webhooks/twilio/inbound",
        )
        yield running


def _twilio(sandbox: Any, web: RunningApp) -> TwilioProvider:
    return TwilioProvider(
        DEMO_CREDENTIALS.twilio_account_sid,
        DEMO_CREDENTIALS.twilio_auth_token,
        from_number=SANDBOX_FROM_NUMBER,
        base_url=sandbox.url,
        status_callback_base=web.url,
        limits=LIMITS,
    )


@pytest.mark.parametrize("seed", [11, 12])
def test_the_sandboxs_callbacks_through_the_web_app_leave_every_row_in_its_true_final_status(
    ledger: Ledger, tmp_path: Path, sandbox, web: RunningApp, email: SendGridProvider, clock: Clock, seed: int
) -> None:
    sandbox.control.set_faults(FAULTS.format(seed=seed))
    crowd = [Person(f"C{i:05d}", "sms", email=f"s{i}@example.com") for i in range(1, 13)] + people(12, start=13)
    written_day(ledger, tmp_path, crowd)
    deliver(ledger, email, clock)
    deliver(ledger, _twilio(sandbox, web), clock)
    counts = sandbox.control.wait_for_webhooks(60)
    truth = {m["reminder_key"]: m["status"] for m in sandbox.control.messages()}
    assert len(truth) == 24
    expected = {key: EXPECTED[status] for key, status in truth.items()}
    before = {row["dedupe_key"]: row["status"] for row in rows(ledger).values() if row["dedupe_key"] in truth}
    assert all(before[key] in (status, S.SENT) for key, status in expected.items()), counts
    # a callback that came while its row was still ``sending`` waits for delivery_status to settle it
    with ledger.begin_write(OUTBOX_LOCK, shared=True) as connection:
        settle_pending(connection, POLICY, clock.now)
    after = rows(ledger)
    assert {row["dedupe_key"]: row["status"] for row in after.values() if row["dedupe_key"] in truth} == expected
    failed = {row["dedupe_key"].rsplit("|", 1)[0] for row in after.values() if row["status"] == S.FAILED}
    follow_ups = [r for r in after.values() if r["status"] in (S.PLANNED, S.TASK_OPEN)]
    assert sorted(r["dedupe_key"].rsplit("|", 1)[0] for r in follow_ups) == sorted(failed)


def test_stop_injected_as_twilio_posts_it_is_answered_and_stops_the_next_sms(
    ledger: Ledger, tmp_path: Path, sandbox, web: RunningApp, clock: Clock
) -> None:
    written_day(ledger, tmp_path, people(2, "sms"))
    help_answer = sandbox.control.inject_sms("+12025550001", SANDBOX_FROM_NUMBER, "HELP")
    assert any("Example Supplies Ltd" in text for text in help_answer.replies)
    sandbox.control.inject_sms("+12025550001", SANDBOX_FROM_NUMBER, "STOP")
    assert customer(ledger, "C00001")["sms_opt_out_at"] is not None
    assert deliver(ledger, _twilio(sandbox, web), clock).sent == 1
    assert {m["to"] for m in sandbox.control.messages()} == {"+12025550002"}
