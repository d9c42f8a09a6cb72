"""Delivery: the email and SMS deliveries, the job that runs them and the sensor that starts it."""

import dagster as dg

from reminder_pipeline.defs.delivery.assets import email_deliveries, sms_deliveries
from reminder_pipeline.defs.delivery.automation import deliveries, delivery_sensor

defs = dg.Definitions(assets=[email_deliveries, sms_deliveries], jobs=[deliveries], sensors=[delivery_sensor])
