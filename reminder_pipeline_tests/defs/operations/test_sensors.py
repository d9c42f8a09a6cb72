"""Operations sensors: today re-planned after live payments, the operator emailed about a failed run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.common.providers import SendGridResource
from reminder_pipeline.defs.operations.checks import quiet_provider
from reminder_pipeline.defs.operations.sensors import (
    OPERATOR_EMAIL_ENV,
    business_today,
    failure_message,
    replan_after_payments,
    run_failure_alert,
)
from reminder_pipeline.ledger.schema import inbound_events
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS, SANDBOX_FROM_EMAIL

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def _events(ledger: Ledger, *rows: tuple[str, str]) -> None:
    with ledger.begin() as connection:
        for index, (source, status) in enumerate(rows):
            connection.execute(
                inbound_events.insert().values(
                    source=source, dedupe_key=f"k{index}", received_at=NOW, body="{}", status=status
                )
            )


def _evaluate(ledger: Ledger, cursor: str | None = None) -> dg.SensorResult:
    resources = {"ledger": LedgerResource(url=ledger.url)}
    with (
        dg.instance_for_test() as instance,
        dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor) as context,
    ):
        return replan_after_payments(context)


def test_live_payments_ask_for_todays_plan_once(ledger: Ledger) -> None:
    assert _evaluate(ledger).skip_reason is not None
    _events(
        ledger,
        ("payment", "processed"),
        ("broker", "processed"),
        ("payment", "unmatched"),
        ("twilio_status", "processed"),
    )
    first = _evaluate(ledger)
    (request,) = first.run_requests or []
    assert request.partition_key == business_today(datetime.now(UTC))
    assert request.tags["reminders/payments"] == "2"
    again = _evaluate(ledger, cursor=first.cursor)
    assert again.run_requests == []
    assert again.skip_reason is not None


def test_a_failure_alert_names_the_run_and_hides_addresses() -> None:
    subject, text = failure_message("deliveries", "abc123", "SendGrid refused anna@example.com (+4915112345678)")
    assert subject == "[reminders] run of deliveries failed"
    assert "abc123" in text
    assert "anna@example.com" not in text
    assert "4915112345678" not in text


def test_a_failed_run_emails_the_operator_through_sendgrid(sandbox, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(OPERATOR_EMAIL_ENV, "ops@example.com")

    @dg.op
    def breaks() -> None:
        raise RuntimeError("the ledger is gone")

    @dg.job
    def fragile() -> None:
        breaks()

    with dg.instance_for_test() as instance:
        result = fragile.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
        resource = SendGridResource(
            api_key=DEMO_CREDENTIALS.sendgrid_api_key, from_email=SANDBOX_FROM_EMAIL, base_url=sandbox.url
        )
        with dg.build_run_status_sensor_context(
            sensor_name="run_failure_alert",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=failure,
            resources={"sendgrid": resource},
        ) as context:
            run_failure_alert(context.for_run_failure())
    (alert,) = sandbox.control.messages()
    assert alert["to"] == "ops@example.com"
    assert alert["subject"] == "[reminders] run of fragile failed"
    assert result.run_id in alert["body"]


@pytest.mark.parametrize(
    ("sent_ago", "event_ago", "quiet"),
    [
        (None, None, False),
        (timedelta(minutes=30), None, False),
        (timedelta(hours=3), None, True),
        (timedelta(hours=3), timedelta(hours=4), True),
        (timedelta(hours=3), timedelta(hours=2), False),
    ],
)
def test_a_provider_is_quiet_when_it_said_nothing_after_an_old_send(
    sent_ago: timedelta | None, event_ago: timedelta | None, quiet: bool
) -> None:
    sent = NOW - sent_ago if sent_ago else None
    event = NOW - event_ago if event_ago else None
    assert quiet_provider(sent, event, NOW, timedelta(hours=2)) is quiet
