"""The demo's last business day sent through the provider sandbox, as the delivery sensor would through the day.

The sandbox runs in the demo's process on a free loopback port with a few faults (server errors, a
timeout after accepting, invalid numbers), and the delivery assets run as real Dagster runs pointed at it:
once in the morning, at midday and in the evening (business time), so that each customer's reminder goes
out inside their own window, retries are retried and unknown outcomes reconciled. What the sandbox
received is left in ``sandbox_messages.json`` for anyone to audit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import Connection, func, select

from reminder_pipeline import settings
from reminder_pipeline.core.channels import CHANNEL_NAMES, mask_recipient
from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.core.privacy import mask_text
from reminder_pipeline.demo.run import DemoPlan
from reminder_pipeline.ledger.planning import contacts
from reminder_pipeline.ledger.schema import delivery_attempts, outbox
from reminder_pipeline.providers.base import SendOutcome
from reminder_pipeline.providers.sandbox import SandboxConfig, running_sandbox
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS, sandbox_environment

DELIVERY_ASSETS = "email_deliveries,sms_deliveries"
RUNS_AT = (time(8, 30), time(13), time(18), time(18, 30))
"""Business times of the demo's delivery runs: each reaches the customers whose window is open then; the
last one, half an hour after the one before, retries and reconciles what that one could not finish."""
FAULTS = "error_rate=0.03,timeout_rate=0.01,hold_ms=11000,sms_error_21211=0.03,seed=7"
"""A bad day at the providers: 3 % server errors, 1 % answers lost after accepting, 3 % invalid numbers."""

Materialize = Callable[..., None]


def deliver_last_day(plan: DemoPlan, say: Callable[[str], None], materialize: Materialize) -> None:
    zone = ZoneInfo(settings.business_timezone())
    with running_sandbox(
        SandboxConfig(port=0, credentials=DEMO_CREDENTIALS, faults=FAULTS, log_path=plan.workdir / "sandbox.jsonl")
    ) as sandbox:
        environment = sandbox_environment(sandbox.url)
        say(f"  the provider sandbox listens on {sandbox.url} (faults: {FAULTS})")
        for at in RUNS_AT:
            moment = datetime.combine(plan.end, at, tzinfo=zone).isoformat()
            config = {"config": {"run_at": moment}}
            say(f"  delivery run as of {at:%H:%M} ...")
            materialize(
                plan,
                DELIVERY_ASSETS,
                config={"ops": {"email_deliveries": config, "sms_deliveries": config}},
                environment=environment,
            )
        (plan.workdir / "sandbox_messages.json").write_text(json.dumps(sandbox.control.messages(), indent=1))


def _outcomes(connection: Connection) -> dict[str, int]:
    query = select(delivery_attempts.c.outcome, func.count()).group_by(delivery_attempts.c.outcome)
    return {str(outcome): int(n) for outcome, n in connection.execute(query)}


def _received(plan: DemoPlan, connection: Connection) -> list[str]:
    path = plan.workdir / "sandbox_messages.json"
    received: list[dict[str, Any]] = json.loads(path.read_text()) if path.exists() else []
    lines: list[str] = []
    for channel in CHANNEL_NAMES:
        message = next((m for m in received if m["channel"] == channel), None)
        if message is None:
            continue
        key = message["reminder_key"]
        row = connection.execute(select(outbox.c.customer_id, outbox.c.status).where(outbox.c.dedupe_key == key)).one()
        who = contacts(connection, pl.Series([row.customer_id])).row(0, named=True)
        to = pl.select(mask_recipient(pl.lit(channel), pl.lit(message["to"]))).item()
        lines += [
            "",
            f"  One {channel} the sandbox received (to {to}, id {message['provider_id']}, outbox {row.status}):",
        ]
        text = message["body"] if not message.get("subject") else f"Subject: {message['subject']}\n\n{message['body']}"
        text = mask_text(text, name=who["name"], email=who["email"], phone=who["phone"])
        lines += [f"    | {line}" for line in text.splitlines()]
    return lines


def delivery_lines(plan: DemoPlan, connection: Connection) -> list[str]:
    query = (
        select(outbox.c.channel, outbox.c.status, func.count())
        .where(outbox.c.send_on == plan.end)
        .group_by(outbox.c.channel, outbox.c.status)
        .order_by(outbox.c.channel, outbox.c.status)
    )
    by_channel: dict[str, list[str]] = {}
    for channel, status, count in connection.execute(query):
        by_channel.setdefault(str(channel), []).append(f"{status}: {count}")
    day = pl.DataFrame(
        connection.execute(
            select(outbox.c.customer_id, outbox.c.episode_id, outbox.c.step, outbox.c.channel, outbox.c.status).where(
                outbox.c.send_on == plan.end
            )
        ).all(),
        schema=["customer_id", "episode_id", "step", "channel", "status"],
        orient="row",
    )
    step = ["customer_id", "episode_id", "step"]
    failed = day.filter(pl.col("status") == OutboxStatus.FAILED).select(
        *step, pl.col("channel").alias("failed_channel")
    )
    fallbacks = day.join(failed, on=step).filter(pl.col("channel") != pl.col("failed_channel")).height
    refused = connection.execute(
        select(delivery_attempts.c.error_code, func.count())
        .where(delivery_attempts.c.outcome == SendOutcome.REJECTED)
        .group_by(delivery_attempts.c.error_code)
    ).all()
    outcomes = _outcomes(connection)
    lines = [
        "",
        f"Deliveries on {plan.end} (runs as of {', '.join(f'{t:%H:%M}' for t in RUNS_AT)}, through the sandbox):",
    ]
    lines += [f"  {channel}: {', '.join(states)}" for channel, states in by_channel.items()]
    lines.append(
        f"  provider answers: {outcomes.get(SendOutcome.ACCEPTED, 0)} accepted, "
        f"{outcomes.get(SendOutcome.RETRY, 0)} to retry "
        f"(429/5xx), {outcomes.get(SendOutcome.UNKNOWN, 0)} unknown (reconciled, never resent), "
        f"{outcomes.get(SendOutcome.REJECTED, 0)} refused for good"
        + (f" ({', '.join(f'{code}: {n}' for code, n in refused)})" if refused else "")
    )
    lines.append(
        f"  refused for good, then the step's other channel or a collector: {fallbacks}; "
        "rows still rendered or to retry wait for their window or their next try"
    )
    return lines + _received(plan, connection)
