"""Delivery: the email and SMS deliveries, the job that runs them and the sensor that starts it."""

import dagster as dg

from reminder_pipeline.defs.delivery.assets import email_deliveries, sms_deliveries
from reminder_pipeline.defs.delivery.automation import deliveries, delivery_sensor
from reminder_pipeline.defs.delivery.resources import (
    sendgrid_resource_from_environment,
    twilio_resource_from_environment,
)

defs = dg.Definitions(
    assets=[email_deliveries, sms_deliveries],
    jobs=[deliveries],
    sensors=[delivery_sensor],
    resources={
        "sendgrid": sendgrid_resource_from_environment(),
        "twilio": twilio_resource_from_environment(),
    },
)
