"""Listening: the delivery status the providers' callbacks and events tell, refreshed by a sensor on new
events, and the daily lookup of messages they never spoke of."""

import dagster as dg

from reminder_pipeline.defs.listening.assets import delivery_status, delivery_status_lookups
from reminder_pipeline.defs.listening.automation import (
    daily_lookups,
    delivery_events_sensor,
    status_lookups,
    status_refresh,
)

defs = dg.Definitions(
    assets=[delivery_status, delivery_status_lookups],
    jobs=[status_refresh, status_lookups],
    sensors=[delivery_events_sensor],
    schedules=[daily_lookups],
)
