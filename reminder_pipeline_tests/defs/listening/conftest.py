"""The delivery tests' sandbox and environment, for the Dagster tests of delivery status too."""

from reminder_pipeline_tests.delivery.conftest import _no_twilio_host_rewrites, clock, email, sandbox, sms

__all__ = ["_no_twilio_host_rewrites", "clock", "email", "sandbox", "sms"]
