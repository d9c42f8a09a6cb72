"""A signed request holding a NUL character (which PostgreSQL cannot keep in text) is refused, not a 500."""

from __future__ import annotations

import httpx

from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline_tests.web.kinds import inbox, send
from reminder_pipeline_tests.web.signing import MovableClock, Secrets, payment, payment_post, status_params, twilio_post


def test_a_nul_in_a_signed_field_is_refused_and_stores_nothing(
    client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    callback = twilio_post(secrets, "/webhooks/twilio/status", status_params("SM\x00"))
    paid = payment_post(secrets, payment("P-\x001"), web_clock.now)
    for post in (callback, paid):
        answer = send(client, post)
        assert answer.status_code == 400
        assert "NUL" in answer.json()["error"]
    assert inbox(ledger) == []
