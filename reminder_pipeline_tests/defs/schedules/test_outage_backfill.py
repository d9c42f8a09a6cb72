"""A three-day outage and the catch-up after it: the daily run and delivery on a live day, nothing for three
days while payments and new debts arrive, then the schedule's next tick runs the missed days and today in
one run, and delivery sends. Promise 5: at most the single highest step now due per customer, nothing
stale, no burst, nothing for a day whose window has passed — and every other promise counter zero,
counted from the sandbox's log and the ledger.

It runs on the real clock (a backfill acts now): the customers live in a zone where it is midday now,
and the policy makes every day a business day, so that any day of the year decides the same.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import select

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.policy.config import Policy
from reminder_pipeline.defs.daily_run.automation import daily_run, daily_run_schedule
from reminder_pipeline.defs.delivery.assets import email_deliveries, sms_deliveries
from reminder_pipeline.defs.ingestion.assets import customers, invoices, payments
from reminder_pipeline.defs.reminders.assets import reminder_plan, rendered_messages
from reminder_pipeline.defs.risk.assets import customer_features, customer_segments, risk_scores
from reminder_pipeline.defs.schedules.catch_up import RANGE_END_TAG, RANGE_START_TAG
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.providers.sandbox import SandboxConfig, running_sandbox
from reminder_pipeline_tests.defs.runs import asset_resources, provider_resources
from reminder_pipeline_tests.defs.schedules.helpers import Customer, Midday, midday_now, write_day, write_policy
from reminder_pipeline_tests.defs.schedules.promises import promise_counters

DAILY_ASSETS = [
    customers,
    invoices,
    payments,
    customer_features,
    risk_scores,
    customer_segments,
    reminder_plan,
    rendered_messages,
]
EXPECTED_AFTER_OUTAGE = {
    "A": "second_reminder",  # reminded on the live day; two steps later now
    "Q": "reminder",  # a courtesy note on the live day; due during the outage
    "B": "firm_reminder",  # arrived in the outage with reminder and second_reminder passing unsent
    "M": "second_reminder",  # the same, by SMS
    "R": "reminder",  # its step fell due on an outage day whose window passed
}


@pytest.fixture(autouse=True)
def _no_twilio_host_rewrites(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    monkeypatch.delenv("TWILIO_EDGE", raising=False)


def _billing(drop: Path, clock: Midday) -> dict[str, str]:
    """Four days of drop files before today; returns customer letter -> customer id."""
    today, zone = clock.today, clock.zone
    day = {n: today - timedelta(days=n) for n in range(60)}
    people = {k: Customer(f"C{n:04d}", zone, "sms" if k == "M" else "email") for n, k in enumerate("APQBMRH", 1)}
    ids = {k: c.customer_id for k, c in people.items()}

    def invoice(key: str, due_days_ago: int) -> tuple[str, str, date, date]:
        return (f"INV-{key}", ids[key], day[due_days_ago] - timedelta(days=30), day[due_days_ago])

    write_day(drop, day[4], [people[k] for k in "APQ"], [invoice("A", 8), invoice("P", 6), invoice("Q", 2)])
    write_day(drop, day[3], [people[k] for k in "BMR"], [invoice("B", 15), invoice("M", 10), invoice("R", 4)])
    write_day(drop, day[2], [people["H"]], [invoice("H", 50)], [("PAY-P", "INV-P", day[2])])
    return ids


def _resources(workdir: Path, policy: Path, sandbox_url: str) -> dict[str, Any]:
    return asset_resources(workdir, policy=str(policy)) | provider_resources(
        sandbox_url, callback_base="http://127.0.0.1:9"
    )


def _deliver(instance: dg.DagsterInstance, resources: dict[str, Any], at: datetime | None) -> None:
    config = {"config": {"run_at": at.isoformat()}} if at else {}
    result = dg.materialize(
        [email_deliveries, sms_deliveries],
        instance=instance,
        resources=resources,
        run_config={"ops": {"email_deliveries": config, "sms_deliveries": config}},
    )
    assert result.success


def _audit_catches_violations(ledger: Ledger, messages: list[dict[str, Any]], policy: Policy, today: date) -> bool:
    """The same audit over a doctored log finds what it must: today's last message three times, once of them
    at night, and a live-day message again today."""
    latest = max(messages, key=lambda m: m["accepted_at"])
    earliest = min(messages, key=lambda m: m["accepted_at"])
    night = datetime.fromisoformat(latest["accepted_at"]) - timedelta(hours=11, minutes=30)
    doctored = [
        *messages,
        latest,
        {**latest, "accepted_at": night.isoformat()},
        {**earliest, "accepted_at": latest["accepted_at"]},
    ]
    found = promise_counters(ledger, doctored, policy, catch_up_day=today)
    return (found["duplicates"], found["sent_in_quiet_hours"], found["sent_for_a_passed_day"]) == (3, 1, 1) and (
        found["over_cap"] > 0 and found["burst_after_catch_up"] > 0
    )


@pytest.mark.slow
def test_a_three_day_outage_then_the_catch_up_sends_only_the_highest_step_now_due(tmp_path: Path) -> None:
    clock = midday_now()
    today, live_day = clock.today, clock.today - timedelta(days=4)
    ids = _billing(tmp_path / "drop", clock)
    policy_path = write_policy(tmp_path / "policy.yaml")
    policy = load_policy(policy_path)
    with (
        running_sandbox(SandboxConfig(port=0, log_path=tmp_path / "sandbox_messages.jsonl")) as sandbox,
        dg.instance_for_test() as instance,
    ):
        resources = _resources(tmp_path, policy_path, sandbox.url)
        job = dg.Definitions(assets=DAILY_ASSETS, jobs=[daily_run], resources=resources).resolve_job_def("daily_run")
        # the live day: planned as of this time of day four days ago, delivered a minute later
        then = datetime.combine(live_day, clock.now.time().replace(second=0, microsecond=0), tzinfo=clock.now.tzinfo)
        morning = {"config": {"run_at_local_time": f"{then:%H:%M}"}}
        live = job.execute_in_process(
            instance=instance,
            partition_key=live_day.isoformat(),
            run_config={"ops": {"reminder_plan": morning, "rendered_messages": morning}},
        )
        assert live.success
        sandbox.control.set_clock(then + timedelta(minutes=1))
        _deliver(instance, resources, then + timedelta(minutes=1))
        assert len(sandbox.control.messages()) == 3
        sandbox.control.set_clock(None)

        # three days without any run; then today's tick
        tick_at = datetime.combine(today, clock.now.time(), tzinfo=clock.now.tzinfo)
        with dg.build_schedule_context(
            instance=instance, scheduled_execution_time=tick_at, resources={"policy": resources["policy"]}
        ) as context:
            request = daily_run_schedule(context)
        assert isinstance(request, dg.RunRequest)
        first_missed = (today - timedelta(days=3)).isoformat()
        assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == (first_missed, today.isoformat())
        backfill = job.execute_in_process(instance=instance, tags=request.tags)
        assert backfill.success
        _deliver(instance, resources, None)
        messages = sandbox.control.messages()

    ledger = Ledger(str(resources["ledger"].url))
    counters = promise_counters(ledger, messages, policy, catch_up_day=today)
    assert counters == {
        "sent": 8,
        "unknown_keys": 0,
        "duplicates": 0,
        "sent_in_quiet_hours": 0,
        "over_cap": 0,
        "sent_after_payment": 0,
        "stale_after_catch_up": 0,
        "burst_after_catch_up": 0,
        "sent_for_a_passed_day": 0,
    }
    assert _audit_catches_violations(ledger, messages, policy, today)
    with ledger.begin() as connection:
        rows = connection.execute(
            select(
                schema.outbox.c.customer_id,
                schema.outbox.c.business_date,
                schema.outbox.c.step,
                schema.outbox.c.channel,
                schema.outbox.c.status,
            ).where(schema.outbox.c.business_date > live_day)
        ).all()
    ledger.dispose()
    after = {customer: (day, step, channel, status) for customer, day, step, channel, status in rows}
    assert len(after) == len(rows), "one row per customer since the live day"
    for key, step in EXPECTED_AFTER_OUTAGE.items():
        assert after[ids[key]] == (today, step, "sms" if key == "M" else "email", "sent"), key
    assert after[ids["H"]][1:] == ("collector", "collector", "task_open"), "a hand-off to a collector, no message"
    assert ids["P"] not in after, "paid during the outage"
