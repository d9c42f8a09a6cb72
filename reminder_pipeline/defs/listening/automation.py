"""When delivery status refreshes: a sensor on new provider events (and on work they left: events stored but
not processed, rows still to settle, fallbacks to write), and the daily lookup of unconfirmed messages."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
from sqlalchemy import Connection

from reminder_pipeline import settings
from reminder_pipeline.defs.common.ledger import LedgerResource
from reminder_pipeline.defs.common.retries import NO_RUN_RETRY_ON_STEP_FAILURE
from reminder_pipeline.defs.common.runs import run_going
from reminder_pipeline.defs.listening.assets import delivery_status, delivery_status_lookups
from reminder_pipeline.ledger import listening as queries
from reminder_pipeline.listening.delivery_events import DECISIVE

STATUS_TAG = "reminders/delivery_status"

status_refresh = dg.define_asset_job(
    "refresh_delivery_status",
    selection=dg.AssetSelection.assets(delivery_status),
    description="Process stored provider events, settle late ones, write fallbacks, summarise delivery status.",
    tags={STATUS_TAG: "refresh", **NO_RUN_RETRY_ON_STEP_FAILURE},
)
status_lookups = dg.define_asset_job(
    "look_up_delivery_status",
    selection=dg.AssetSelection.assets(delivery_status_lookups),
    description="Ask the providers about messages whose final status never arrived.",
    tags={STATUS_TAG: "lookups", **NO_RUN_RETRY_ON_STEP_FAILURE},
)
daily_lookups = dg.ScheduleDefinition(
    name="daily_delivery_status_lookups",
    job=status_lookups,
    cron_schedule="30 4 * * *",
    execution_timezone=settings.business_timezone(),
    description="Every day at 04:30 business time, before the day's sends: asks SendGrid and Twilio about the "
    "messages whose final status never arrived (a lost webhook), so the day's plan knows what was delivered.",
)


@dataclass(frozen=True)
class Waiting:
    latest_event: int
    received: int
    to_settle: int
    fallback_days: int

    def work(self, cursor: int) -> bool:
        return self.latest_event > cursor or bool(self.received or self.to_settle or self.fallback_days)

    def run_key(self) -> str:
        return f"status-{self.latest_event}-{self.received}-{self.to_settle}-{self.fallback_days}"


def waiting(connection: Connection) -> Waiting:
    return Waiting(
        latest_event=queries.latest_delivery_event(connection),
        received=queries.events_waiting(connection),
        to_settle=len(queries.rows_to_settle(connection, DECISIVE)),
        fallback_days=len(queries.fallbacks_to_render(connection)),
    )


def status_request(instance: dg.DagsterInstance, found: Waiting, cursor: int) -> dg.SensorResult:
    """A refresh when there is news or work, unless one is queued or running (the same state: one run)."""
    if not found.work(cursor):
        return dg.SensorResult(skip_reason="no new provider event", cursor=str(found.latest_event))
    if run_going(instance, {STATUS_TAG: "refresh"}):
        return dg.SensorResult(skip_reason="a delivery status refresh is already going", cursor=str(cursor))
    request = dg.RunRequest(run_key=found.run_key())
    return dg.SensorResult(run_requests=[request], cursor=str(found.latest_event))


@dg.sensor(
    job=status_refresh,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Keeps delivery status current: refreshes delivery_status when the providers reported deliveries, "
    "bounces or failures since the last look (or stored events still wait), which also writes the fallback "
    "message of a bounced reminder.",
)
def delivery_events_sensor(context: dg.SensorEvaluationContext, ledger: LedgerResource) -> dg.SensorResult:
    """Refresh ``delivery_status`` when provider events arrived since the last look (the cursor: the last
    ``delivery_events`` id seen), or stored events, late rows or fallbacks are waiting."""
    with ledger.open().begin() as connection:
        found = waiting(connection)
    return status_request(context.instance, found, int(context.cursor or 0))
