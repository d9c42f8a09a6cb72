"""The outcome helpers delivery relies on: configuration errors, retry waits, redacted details."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from reminder_pipeline.providers.base import SendOutcome, SendResult, is_configuration_error
from reminder_pipeline.providers.redaction import redact
from reminder_pipeline.providers.waits import retry_after_seconds


@pytest.mark.parametrize(
    ("code", "expected"),
    [("401", True), ("403", True), ("20003", True), ("21212", True), ("21606", True), ("21611", True),
     ("400", False), ("413", False), ("21211", False), ("21610", False), (None, False)],
)  # fmt: skip
def test_configuration_errors_are_refusals_about_our_account(code: str | None, expected: bool) -> None:
    assert is_configuration_error(SendResult(SendOutcome.REJECTED, error_code=code)) is expected
    assert not is_configuration_error(SendResult(SendOutcome.RETRY, error_code=code))


def test_retry_after_reads_the_rate_limit_reset_seconds_or_a_date() -> None:
    assert retry_after_seconds({"X-RateLimit-Reset": "1030"}, now=1000.0) == 30.0
    assert retry_after_seconds({"X-RateLimit-Reset": "990"}, now=1000.0) == 0.0
    assert retry_after_seconds({"Retry-After": "7"}, now=1000.0) == 7.0
    later = format_datetime(datetime.fromtimestamp(1060, UTC), usegmt=True)
    assert retry_after_seconds({"Retry-After": later}, now=1000.0) == 60.0
    assert retry_after_seconds({"Retry-After": "soon"}, now=1000.0) is None
    assert retry_after_seconds({}, now=1000.0) is retry_after_seconds(None) is None


def test_redaction_hides_addresses_and_numbers_but_keeps_codes() -> None:
    text = redact("The 'To' number +1 (415) 555-0100 for jane.doe@example.org failed: 21211")
    assert "555" not in text
    assert "jane" not in text
    assert "21211" in text
    assert len(redact("x" * 1000)) <= 300
