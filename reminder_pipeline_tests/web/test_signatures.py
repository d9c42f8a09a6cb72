"""Twilio's signature checked with one computation when the first URL form matches: it accepts exactly what the
SDK's ``RequestValidator.validate`` accepts (signed with or without the port, a stale or foreign signature not)."""

from __future__ import annotations

from urllib.parse import urlparse

from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator, add_port, remove_port

from reminder_pipeline.web.signatures import TwilioParams, twilio_signature_valid

TOKEN = "0123456789abcdef0123456789abcdef"
URLS = st.sampled_from(
    [
        "https://reminders.example.com/webhooks/twilio/status?reminder_key=8%3AC1%7Csms",
        "https://reminders.example.com:443/webhooks/twilio/status",
        "http://127.0.0.1:8000/webhooks/twilio/inbound?a=1&bodySHA256=abc",
        "http://reminders.example.com/webhooks/twilio/status?x=%20y&x=z",
    ]
)
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
PAIRS = st.lists(st.tuples(st.sampled_from(["MessageSid", "MessageStatus", "To", "Body", "", "ä"]), TEXT), max_size=8)


def _signature(kind: str, url: str, params: TwilioParams) -> str:
    validator = RequestValidator(TOKEN)
    parsed = urlparse(url)
    if kind == "without port":
        return validator.compute_signature(remove_port(parsed), params)
    if kind == "with port":
        return validator.compute_signature(add_port(parsed), params)
    if kind == "other token":
        return RequestValidator(TOKEN[::-1]).compute_signature(url, params)
    return kind


@settings(max_examples=300, deadline=None)
@given(
    url=URLS,
    pairs=PAIRS,
    kind=st.sampled_from(["without port", "with port", "other token", "", "abc", "x" * 28]),
    tampered=st.booleans(),
)
def test_twilio_signature_accepts_what_the_sdk_validate_accepts(
    url: str, pairs: list[tuple[str, str]], kind: str, tampered: bool
) -> None:
    signature = _signature(kind, url, TwilioParams(pairs))
    received = TwilioParams([*pairs, ("Extra", "1")] if tampered else pairs)
    validator = RequestValidator(TOKEN)
    assert twilio_signature_valid(validator, url, received, signature) == validator.validate(url, received, signature)


def test_both_forms_of_the_url_are_accepted_and_a_foreign_signature_is_not() -> None:
    url = "https://reminders.example.com/webhooks/twilio/status?reminder_key=k"
    params = TwilioParams([("MessageSid", "SM1"), ("MessageStatus", "delivered")])
    validator = RequestValidator(TOKEN)
    for kind in ("without port", "with port"):
        assert twilio_signature_valid(validator, url, params, _signature(kind, url, params))
    assert not twilio_signature_valid(validator, url, params, _signature("other token", url, params))
