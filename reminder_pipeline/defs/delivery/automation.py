"""When sending happens: a sensor starts a provider's delivery run whenever its rows are due and their
windows open (a customer in Sydney and one in Los Angeles each inside their own), never a second run
for a provider while one is queued or running."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.common.retries import NO_RUN_RETRY_ON_STEP_FAILURE
from reminder_pipeline.defs.common.runs import run_going
from reminder_pipeline.defs.delivery.assets import email_deliveries, sms_deliveries
from reminder_pipeline.ledger.delivery import due_counts

PROVIDER_TAG = "reminders/provider"
BY_CHANNEL: dict[str, tuple[str, dg.AssetsDefinition]] = {
    Channel.EMAIL: ("sendgrid", email_deliveries),
    Channel.SMS: ("twilio", sms_deliveries),
}

deliveries = dg.define_asset_job(
    "deliveries",
    selection=dg.AssetSelection.assets(email_deliveries, sms_deliveries),
    description="Send the due outbox: email through SendGrid, SMS through Twilio.",
    tags=NO_RUN_RETRY_ON_STEP_FAILURE,
)


def delivery_requests(instance: dg.DagsterInstance, due: dict[str, int]) -> dg.SensorResult:
    """A run request per provider with rows due and no run of its own queued or running."""
    requests, skipped = [], []
    for channel, count in due.items():
        provider, asset = BY_CHANNEL[channel]
        if not count:
            continue
        if run_going(instance, {PROVIDER_TAG: provider}):
            skipped.append(f"{provider}: a run is already going ({count} due)")
            continue
        requests.append(dg.RunRequest(asset_selection=[asset.key], tags={PROVIDER_TAG: provider}))
    if not requests:
        return dg.SensorResult(skip_reason="; ".join(skipped) or "nothing is due")
    return dg.SensorResult(run_requests=requests)


@dg.sensor(
    job=deliveries,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends reminders as their windows open: every minute, a delivery run per provider (email through "
    "SendGrid, SMS through Twilio) with rows due now, never a second one while one is going. Stop it to pause "
    "all sending at once; nothing due is lost, it goes out when the sensor runs again.",
)
def delivery_sensor(context: dg.SensorEvaluationContext, ledger: LedgerResource) -> dg.SensorResult:
    """A delivery run per provider with rows due now (window open, next try due, an outcome to reconcile)."""
    with ledger.open().begin() as connection:
        due = due_counts(connection, datetime.now(UTC))
    return delivery_requests(context.instance, due)
