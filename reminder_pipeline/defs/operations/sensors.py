"""Operations: the day re-planned when payments arrive live, and the operator told when a run fails."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import dagster as dg

from reminder_pipeline import settings
from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.common.partitions import business_days
from reminder_pipeline.defs.common.providers import SendGridResource
from reminder_pipeline.defs.common.retries import NO_RUN_RETRY_ON_STEP_FAILURE
from reminder_pipeline.ledger.operations import live_payments_since
from reminder_pipeline.providers.base import OutgoingMessage, SendOutcome
from reminder_pipeline.providers.redaction import redact

OPERATOR_EMAIL_ENV = "REMINDERS_OPERATOR_EMAIL"
PLAN = dg.AssetKey("reminder_plan")
MESSAGES = dg.AssetKey("rendered_messages")

replan_today = dg.define_asset_job(
    "replan_today",
    selection=dg.AssetSelection.assets(PLAN, MESSAGES),
    description="Today's reminder plan and messages again, after payments arrived: the new balances decide.",
    tags=NO_RUN_RETRY_ON_STEP_FAILURE,
)


def business_today(now: datetime) -> str:
    return now.astimezone(ZoneInfo(settings.business_timezone())).date().isoformat()


@dg.sensor(
    job=replan_today,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Re-plans today after payments arrive live (webhook, Stripe, RabbitMQ): whoever paid is no longer "
    "chased, whoever paid in part gets the reminder for what is still owed.",
)
def replan_after_payments(context: dg.SensorEvaluationContext, ledger: LedgerResource) -> dg.SensorResult:
    """Payments that arrived live (webhook, Stripe, RabbitMQ) already cancelled their customers' pending
    sends; this re-plans today so that whoever still owes something gets the right reminder."""
    after = int(context.cursor or 0)
    with ledger.open().begin() as connection:
        count, latest = live_payments_since(connection, after)
    if not count:
        return dg.SensorResult(skip_reason="no payment arrived live since the last look", cursor=str(latest))
    today = business_today(datetime.now(UTC))
    if today not in business_days.get_partition_keys():
        return dg.SensorResult(skip_reason=f"{today} is not a business day partition yet", cursor=str(latest))
    request = dg.RunRequest(
        run_key=f"replan-{today}-{latest}", partition_key=today, tags={"reminders/payments": str(count)}
    )
    return dg.SensorResult(run_requests=[request], cursor=str(latest))


def failure_message(job: str, run_id: str, error: str) -> tuple[str, str]:
    """Subject and text of the operator's alert (provider error texts redacted: they quote addresses)."""
    subject = f"[reminders] run of {job} failed"
    text = (
        f"The run {run_id} of job {job} failed.\n\n{redact(error)}\n\n"
        "Open the run in the Dagster UI for the logs; it is not retried when its steps failed (see the README)."
    )
    return subject, text


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description=f"Emails the operator (${OPERATOR_EMAIL_ENV}) through SendGrid when any run fails, with the error "
    "and where to look; without the variable it only logs a warning.",
)
def run_failure_alert(context: dg.RunFailureSensorContext, sendgrid: SendGridResource) -> None:
    """An email to ``$REMINDERS_OPERATOR_EMAIL`` through the same SendGrid resource when a run fails."""
    operator = os.environ.get(OPERATOR_EMAIL_ENV, "").strip()
    run = context.dagster_run
    if not operator:
        context.log.warning(f"run {run.run_id} failed; set {OPERATOR_EMAIL_ENV} to be emailed about failures")
        return
    subject, text = failure_message(run.job_name, run.run_id, context.failure_event.message or "no message")
    message = OutgoingMessage(
        reminder_key=f"alert|{run.run_id}", channel=Channel.EMAIL, to=operator, body_text=text, subject=subject
    )
    result = sendgrid.provider().send(message)
    if result.outcome is not SendOutcome.ACCEPTED:
        context.log.error(f"the failure alert for run {run.run_id} was not sent: {result.outcome} {result.detail}")
