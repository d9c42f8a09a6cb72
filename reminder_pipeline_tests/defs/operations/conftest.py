from reminder_pipeline_tests.delivery.conftest import _no_twilio_host_rewrites, sandbox

__all__ = ["_no_twilio_host_rewrites", "sandbox"]
