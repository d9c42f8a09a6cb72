"""The email and SMS providers, from the provider settings in the environment: delivery sends through them,
listening looks messages up, operations alerts the operator."""

from reminder_pipeline.providers.resources import (
    SendGridResource,
    TwilioResource,
    sendgrid_resource_from_environment,
    twilio_resource_from_environment,
)

__all__ = [
    "SendGridResource",
    "TwilioResource",
    "sendgrid_resource_from_environment",
    "twilio_resource_from_environment",
]
