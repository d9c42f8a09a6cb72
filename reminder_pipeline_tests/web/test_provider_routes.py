"""The fields a Twilio endpoint hands its handler are those the handler would read from the stored body."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl

from hypothesis import given, settings
from hypothesis import strategies as st

from reminder_pipeline.listening.delivery_events import EventProblem, ProviderEvent, parse_twilio_status
from reminder_pipeline.web.provider_routes import stored_body

NAMES = st.sampled_from(["MessageSid", "SmsSid", "MessageStatus", "SmsStatus", "ErrorCode", "reminder_key", "To", ""])
RAW = st.lists(st.sampled_from([*"aZ09&=%+;#é ~_-.", "%41", "%C3%A9", "%ZZ", "%E2%82"]), max_size=12).map("".join)
QUERY = st.lists(st.tuples(NAMES, st.text(max_size=8)), max_size=5)
WHEN = datetime(2026, 3, 10, 16, tzinfo=UTC)


def _read(body: str, form: dict[str, str] | None = None) -> ProviderEvent | str:
    try:
        return parse_twilio_status(body, WHEN, form)
    except EventProblem as problem:
        return str(problem)


@settings(max_examples=400, deadline=None)
@given(
    pieces=st.lists(st.one_of(RAW, st.tuples(NAMES, st.text(max_size=8)).map(lambda p: f"{p[0]}={p[1]}")), max_size=6),
    query=QUERY,
)
def test_the_fields_handed_on_are_those_of_the_stored_body(pieces: list[str], query: list[tuple[str, str]]) -> None:
    text = "&".join(pieces)
    pairs = parse_qsl(text, keep_blank_values=True)
    stored, fields = stored_body(text, pairs, query)
    first: dict[str, str] = {}
    for name, value in parse_qsl(stored, keep_blank_values=True):
        first.setdefault(name, value)
    assert fields == first
    assert _read(stored, fields) == _read(stored)


def test_the_urls_reminder_key_is_stored_unless_the_form_names_one() -> None:
    text = "MessageSid=SM1&MessageStatus=delivered"
    stored, fields = stored_body(text, parse_qsl(text), [("reminder_key", "k|1"), ("MessageSid", "SM2")])
    assert stored == "MessageSid=SM1&MessageStatus=delivered&reminder_key=k%7C1"
    assert fields == {"MessageSid": "SM1", "MessageStatus": "delivered", "reminder_key": "k|1"}
