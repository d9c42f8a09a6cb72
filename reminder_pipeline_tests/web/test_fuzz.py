"""Hypothesis against every webhook: whatever the body and headers — unsigned junk, or junk signed
correctly — the answer is never a 5xx, and unsigned junk stores nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline_tests.web.kinds import KINDS, Kind, inbox
from reminder_pipeline_tests.web.signing import (
    PUBLIC_URL,
    MovableClock,
    Secrets,
    hmac_header,
    inbound_email,
    multipart,
    sendgrid_signature,
)

FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=120).map(str.strip)
"""Printable ASCII; an HTTP client sends no header value with surrounding spaces."""
HEADER_NAMES = st.sampled_from(
    [
        "X-Twilio-Signature",
        "X-Twilio-Email-Event-Webhook-Signature",
        "X-Twilio-Email-Event-Webhook-Timestamp",
        "X-Reminders-Signature",
        "Stripe-Signature",
        "Authorization",
        "Content-Type",
        "X-Forwarded-Proto",
        "X-Anything",
    ]
)
HEADERS = st.dictionaries(HEADER_NAMES, HEADER_TEXT, max_size=6)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
FIELDS = ["payment_id", "invoice_id", "amount", "currency", "paid_at", "id", "type", "data", "event", "email"]
SHAPED = st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=7)
"""Objects with the right names and any values: closer to what a handler might choke on."""
BODIES = (
    st.binary(max_size=1500) | JSON.map(lambda v: json.dumps(v).encode()) | SHAPED.map(lambda v: json.dumps(v).encode())
)
FORM = st.lists(
    st.tuples(
        st.sampled_from(["MessageSid", "MessageStatus", "ErrorCode", "Body", "From"]) | st.text(max_size=10),
        st.text(max_size=40),
    ),
    max_size=8,
)


def plausible_headers(now: datetime) -> st.SearchStrategy[dict[str, str]]:
    """Signature headers of the right form and a fresh time, with wrong values: they reach the validators."""
    stamp = str(int(now.timestamp()))
    b64 = st.binary(max_size=80).map(lambda b: base64.b64encode(b).decode())
    hmac_like = (HEADER_TEXT | st.text(alphabet="0123456789abcdef", max_size=64)).map(lambda v: f"t={stamp},v1={v}")
    basic = st.tuples(HEADER_TEXT, HEADER_TEXT).map(
        lambda up: "Basic " + base64.b64encode(f"{up[0]}:{up[1]}".encode()).decode()
    )
    made = st.fixed_dictionaries(
        {
            "X-Twilio-Signature": b64 | HEADER_TEXT,
            "X-Twilio-Email-Event-Webhook-Signature": b64 | HEADER_TEXT,
            "X-Twilio-Email-Event-Webhook-Timestamp": st.just(stamp),
            "X-Reminders-Signature": hmac_like,
            "Stripe-Signature": hmac_like,
            "Authorization": basic | b64.map(lambda v: f"Basic {v}") | HEADER_TEXT,
        }
    )
    return made.map(lambda headers: {k: v.strip() for k, v in headers.items()})


class Pairs:
    """Form parameters with repeats, as Twilio's ``compute_signature`` reads them (``getall``)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter({name for name, _ in self.pairs})

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def getall(self, name: str) -> list[str]:
        return [v for k, v in self.pairs if k == name]


def _path(kind: Kind) -> str:
    return {"twilio_status": "/webhooks/twilio/status", "twilio_inbound": "/webhooks/twilio/inbound"}.get(
        kind.name, kind.make(Secrets(), datetime.now().astimezone(), 0).path
    )


def signed_bodies(kind: Kind, secrets: Secrets, at: datetime) -> st.SearchStrategy[tuple[bytes, dict[str, str]]]:
    """Bodies of any shape with the right signature (or credentials) for ``kind``."""
    if kind.name.startswith("twilio"):
        url = PUBLIC_URL + _path(kind)

        def twilio(pairs: list[tuple[str, str]]) -> tuple[bytes, dict[str, str]]:
            signature = RequestValidator(secrets.twilio_token).compute_signature(url, Pairs(pairs))
            return urlencode(pairs).encode(), {"X-Twilio-Signature": signature}

        return FORM.map(twilio)
    if kind.name == "sendgrid_inbound":
        auth = base64.b64encode(f"{secrets.parse_user}:{secrets.parse_password}".encode()).decode()

        def parse(fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
            body, content_type = multipart(fields)
            return body, {"Authorization": f"Basic {auth}", "Content-Type": content_type}

        names = st.sampled_from([*inbound_email(), "attachments"]) | st.text(alphabet='abc_"; =', max_size=8)
        junk = st.binary(max_size=800).map(
            lambda b: (b, {"Authorization": f"Basic {auth}", "Content-Type": "multipart/form-data; boundary=xYz"})
        )
        return st.dictionaries(names, st.text(max_size=60), max_size=8).map(parse) | junk
    sign: Callable[[bytes], dict[str, str]]
    if kind.name == "sendgrid_events":
        stamp = str(int(at.timestamp()))

        def sign(body: bytes) -> dict[str, str]:
            signature = sendgrid_signature(secrets.sendgrid_key, stamp, body)
            return {
                "X-Twilio-Email-Event-Webhook-Signature": signature,
                "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
            }

    else:
        name, secret = (
            ("X-Reminders-Signature", secrets.payment_secret)
            if kind.name == "payments"
            else ("Stripe-Signature", secrets.stripe_secret)
        )

        def sign(body: bytes) -> dict[str, str]:
            return {name: hmac_header(secret, body, at)}

    return BODIES.map(lambda body: (body, sign(body)))


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_unsigned_junk_is_never_a_server_error_and_never_stored(
    kind: Kind, client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    path = _path(kind)

    @FUZZ
    @given(body=BODIES, headers=HEADERS | plausible_headers(web_clock.now), query=st.text(max_size=30))
    def fuzz(body: bytes, headers: dict[str, str], query: str) -> None:
        answer = client.post(path, params={"q": query} if query else None, content=body, headers=headers)
        assert 400 <= answer.status_code < 500, answer.text

    fuzz()
    assert inbox(ledger) == []


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_junk_signed_correctly_is_never_a_server_error(
    kind: Kind, client: httpx.Client, ledger: Ledger, secrets: Secrets, web_clock: MovableClock
) -> None:
    path = _path(kind)
    skew = st.integers(-290, 290).map(lambda s: web_clock.now + timedelta(seconds=s))

    @FUZZ
    @given(data=st.data(), at=skew)
    def fuzz(data: Any, at: datetime) -> None:
        body, headers = data.draw(signed_bodies(kind, secrets, at))
        answer = client.post(path, content=body, headers=headers)
        assert answer.status_code < 500, answer.text

    fuzz()
