"""The sandbox's Twilio API as the official SDK sees it: resources, errors, the message list and its filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from reminder_pipeline.providers.sandbox import RunningSandbox
from reminder_pipeline.providers.sandbox.twilio_api import segments
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS, SANDBOX_FROM_NUMBER
from reminder_pipeline.providers.twilio import RebasedTwilioHttpClient
from reminder_pipeline_tests.providers.helpers import MOBILE

SID, TOKEN = DEMO_CREDENTIALS.twilio_account_sid, DEMO_CREDENTIALS.twilio_auth_token
CREATED_FIELDS = {
    "account_sid", "api_version", "body", "date_created", "date_sent", "date_updated", "direction", "error_code",
    "error_message", "from", "messaging_service_sid", "num_media", "num_segments", "price", "price_unit", "sid",
    "status", "subresource_uris", "to", "uri",
}  # fmt: skip


def _client(sandbox: RunningSandbox, token: str = TOKEN) -> Client:
    return Client(SID, token, http_client=RebasedTwilioHttpClient(sandbox.url, timeout=5, pool_size=2))


def test_a_created_message_has_twilios_fields_and_types(sandbox: RunningSandbox) -> None:
    response = requests.post(
        f"{sandbox.url}/2010-04-01/Accounts/{SID}/Messages.json",
        data={"To": MOBILE, "From": SANDBOX_FROM_NUMBER, "Body": "Hello"},
        auth=(SID, TOKEN),
        timeout=5,
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) >= CREATED_FIELDS
    assert (body["status"], body["date_sent"], body["num_segments"], body["num_media"]) == ("queued", None, "1", "0")
    assert body["uri"] == f"/2010-04-01/Accounts/{SID}/Messages/{body['sid']}.json"
    created = _client(sandbox).messages.create(to=MOBILE, from_=SANDBOX_FROM_NUMBER, body="Hello again")
    assert created.sid.startswith("SM")
    assert created.date_created.tzinfo is not None
    assert (created.to, created.from_, created.error_code) == (MOBILE, SANDBOX_FROM_NUMBER, None)


def test_the_error_body_is_twilios_and_the_sdk_raises_its_rest_exception(sandbox: RunningSandbox) -> None:
    response = requests.post(
        f"{sandbox.url}/2010-04-01/Accounts/{SID}/Messages.json",
        data={"To": "+15005550001", "From": SANDBOX_FROM_NUMBER, "Body": "Hello"},
        auth=(SID, TOKEN),
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": 21211,
        "message": "The 'To' number +15005550001 is not a valid phone number.",
        "more_info": "https://www.twilio.com/docs/errors/21211",
        "status": 400,
    }
    unauthorized = requests.get(f"{sandbox.url}/2010-04-01/Accounts/{SID}/Messages.json", auth=(SID, "x"), timeout=5)
    assert (unauthorized.status_code, unauthorized.json()["code"]) == (401, 20003)
    assert unauthorized.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"From": SANDBOX_FROM_NUMBER, "Body": "x"}, 21604),
        ({"To": MOBILE, "Body": "x"}, 21603),
        ({"To": MOBILE, "From": SANDBOX_FROM_NUMBER}, 21602),
        ({"To": MOBILE, "From": SANDBOX_FROM_NUMBER, "Body": "x" * 1601}, 21617),
        ({"To": MOBILE, "From": "not a sender!", "Body": "x"}, 21212),
        ({"To": MOBILE, "From": SANDBOX_FROM_NUMBER, "Body": "x", "StatusCallback": "http://my_host/cb"}, 21609),
    ],
)
def test_a_request_twilio_would_refuse_is_refused_with_its_code(
    sandbox: RunningSandbox, fields: dict[str, str], code: int
) -> None:
    response = requests.post(
        f"{sandbox.url}/2010-04-01/Accounts/{SID}/Messages.json", data=fields, auth=(SID, TOKEN), timeout=5
    )
    assert (response.status_code, response.json()["code"], response.json()["status"]) == (400, code, 400)
    assert sandbox.control.messages() == []


def test_the_list_filters_by_recipient_and_date_sent_newest_first(sandbox: RunningSandbox) -> None:
    client = _client(sandbox)
    sandbox.control.set_clock(datetime(2024, 5, 1, 10, 0, tzinfo=UTC))
    old = client.messages.create(to=MOBILE, from_=SANDBOX_FROM_NUMBER, body="old")
    sandbox.control.set_clock(datetime(2024, 5, 3, 10, 0, tzinfo=UTC))
    new = client.messages.create(to=MOBILE, from_=SANDBOX_FROM_NUMBER, body="new")
    other = client.messages.create(to="+14155550199", from_=SANDBOX_FROM_NUMBER, body="other")
    listed = client.messages.list(to=MOBILE)
    assert [m.sid for m in listed] == [new.sid, old.sid]
    assert all(m.status == "delivered" and m.date_sent is not None for m in listed)
    after = client.messages.list(to=MOBILE, date_sent_after=datetime(2024, 5, 2, tzinfo=UTC))
    assert [m.sid for m in after] == [new.sid]
    before = client.messages.list(date_sent_before=datetime(2024, 5, 2, tzinfo=UTC))
    assert [m.sid for m in before] == [old.sid]
    assert {m.sid for m in client.messages.list(date_sent=datetime(2024, 5, 3, 12, tzinfo=UTC))} == {new.sid, other.sid}


def test_the_list_pages_and_a_message_can_be_fetched(sandbox: RunningSandbox) -> None:
    client = _client(sandbox)
    sids = [client.messages.create(to=MOBILE, from_=SANDBOX_FROM_NUMBER, body=f"n{n}").sid for n in range(7)]
    assert [m.sid for m in client.messages.list(page_size=3)] == sids[::-1]
    assert client.messages(sids[2]).fetch().body == "n2"
    with pytest.raises(TwilioRestException) as missing:
        client.messages("SM" + "0" * 32).fetch()
    assert (missing.value.status, missing.value.code) == (404, 20404)


def test_another_account_is_refused(sandbox: RunningSandbox) -> None:
    response = requests.get(
        f"{sandbox.url}/2010-04-01/Accounts/AC{'1' * 32}/Messages.json", auth=(SID, TOKEN), timeout=5
    )
    assert (response.status_code, response.json()["code"]) == (401, 20003)


def test_the_list_since_a_moment_spans_days(sandbox: RunningSandbox) -> None:
    client = _client(sandbox)
    sandbox.control.set_clock(datetime(2024, 5, 1, 23, 59, tzinfo=UTC))
    client.messages.create(to=MOBILE, from_=SANDBOX_FROM_NUMBER, body="late")
    since = datetime(2024, 5, 1, 23, 58, tzinfo=UTC) - timedelta(seconds=1)
    assert [m.body for m in client.messages.list(to=MOBILE, date_sent_after=since)] == ["late"]


@pytest.mark.parametrize(
    ("body", "count"), [("a" * 160, 1), ("a" * 161, 2), ("é" * 160, 1), ("✓" * 70, 1), ("✓" * 71, 2)]
)
def test_segments_are_counted_as_twilio_does(body: str, count: int) -> None:
    assert segments(body) == count
