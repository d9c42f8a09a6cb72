"""Processing tests: real ledgers (SQLite and PostgreSQL) with real sent rows, delivered through the
official SDKs to the provider sandbox (the delivery tests' fixtures)."""

from reminder_pipeline_tests.delivery.conftest import _no_twilio_host_rewrites, clock, email, sandbox, sms

__all__ = ["_no_twilio_host_rewrites", "clock", "email", "sandbox", "sms"]
