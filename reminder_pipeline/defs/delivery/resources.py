"""Resources of the delivery domain: the email and SMS providers, from the provider settings in the environment."""

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
