"""The sandbox's SendGrid API as the official SDK sees it: 202s, validation errors, rate limits, the activity search."""

from __future__ import annotations

import time
from typing import Any

import pytest
import python_http_client.exceptions as http_errors
import requests
import sendgrid

from reminder_pipeline.providers.sandbox import RunningSandbox
from reminder_pipeline.providers.settings import DEMO_CREDENTIALS

KEY = DEMO_CREDENTIALS.sendgrid_api_key


def _mail(**overrides: Any) -> dict[str, Any]:
    mail: dict[str, Any] = {
        "personalizations": [{"to": [{"email": "jane@example.org"}]}],
        "from": {"email": "billing@example.com", "name": "Billing"},
        "subject": "Invoice",
        "content": [{"type": "text/plain", "value": "Please pay."}],
    }
    mail.update(overrides)
    return {k: v for k, v in mail.items() if v is not None}


def _post(sandbox: RunningSandbox, mail: Any, key: str = KEY) -> requests.Response:
    return requests.post(
        f"{sandbox.url}/v3/mail/send", json=mail, headers={"Authorization": f"Bearer {key}"}, timeout=5
    )


def _fields(response: requests.Response) -> list[str | None]:
    return [error["field"] for error in response.json()["errors"]]


def test_the_sdk_gets_a_202_with_a_message_id(sandbox: RunningSandbox) -> None:
    response = sendgrid.SendGridAPIClient(KEY, host=sandbox.url).send(_mail())
    assert (response.status_code, response.body) == (202, b"")
    [kept] = sandbox.control.messages()
    assert response.headers["X-Message-Id"] == kept["provider_id"]


def test_a_wrong_key_gets_sendgrids_401(sandbox: RunningSandbox) -> None:
    with pytest.raises(http_errors.UnauthorizedError) as refused:
        sendgrid.SendGridAPIClient("SG.wrong", host=sandbox.url).send(_mail())
    assert refused.value.to_dict == {"errors": [{"field": None, "message": "authorization required", "help": None}]}


def test_every_validation_problem_is_reported_at_once_in_sendgrids_words(sandbox: RunningSandbox) -> None:
    response = _post(sandbox, {"personalizations": [], "content": [{"type": "text/plain", "value": ""}]})
    assert response.status_code == 400
    assert _fields(response) == ["personalizations", "from.email", "subject", "content.0.value"]
    messages = [error["message"] for error in response.json()["errors"]]
    assert messages[0] == "The personalizations field is required and must have at least one personalization."
    assert messages[1].startswith("The from object must be provided for every email send.")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"personalizations": [{"to": [{"email": "jane@"}]}]}, "personalizations.0.to.0.email"),
        ({"personalizations": [{"to": []}]}, "personalizations.0.to"),
        (
            {"personalizations": [{"to": [{"email": "a@example.org"}, {"email": "A@example.org"}]}]},
            "personalizations.0.to",
        ),
        ({"from": {"email": "billing"}}, "from.email"),
        ({"subject": None}, "subject"),
        ({"content": None}, "content"),
        ({"categories": [f"c{n}" for n in range(11)]}, "categories"),
        ({"custom_args": {"reminder_key": 7}}, "custom_args"),
    ],
)
def test_a_body_sendgrid_would_refuse_is_refused_naming_the_field(
    sandbox: RunningSandbox, overrides: dict[str, Any], field: str
) -> None:
    response = _post(sandbox, _mail(**overrides))
    assert (response.status_code, _fields(response)) == (400, [field])
    assert sandbox.control.messages() == []


def test_a_subject_in_every_personalization_is_enough_and_overrides(sandbox: RunningSandbox) -> None:
    mail = _mail(subject=None, personalizations=[{"to": [{"email": "jane@example.org"}], "subject": "Yours"}])
    assert _post(sandbox, mail).status_code == 202
    assert sandbox.control.messages()[0]["subject"] == "Yours"


def test_sendgrids_sandbox_mode_validates_and_keeps_nothing(sandbox: RunningSandbox) -> None:
    assert _post(sandbox, _mail(mail_settings={"sandbox_mode": {"enable": True}})).status_code == 200
    assert sandbox.control.messages() == []


def test_a_429_carries_the_rate_limit_headers(sandbox: RunningSandbox) -> None:
    sandbox.control.set_faults("rate_limit=2/min")
    assert [_post(sandbox, _mail()).status_code for _ in range(2)] == [202, 202]
    limited = _post(sandbox, _mail())
    assert limited.status_code == 429
    assert limited.json() == {"errors": [{"field": None, "message": "too many requests", "help": None}]}
    assert (limited.headers["X-RateLimit-Limit"], limited.headers["X-RateLimit-Remaining"]) == ("2", "0")
    assert int(limited.headers["X-RateLimit-Reset"]) > time.time()


def test_the_activity_search_finds_by_custom_arg_recipient_and_time(sandbox: RunningSandbox) -> None:
    client = sendgrid.SendGridAPIClient(KEY, host=sandbox.url).client
    for key, to in (("rk-1", "jane@example.org"), ("rk-2", "joe@example.org")):
        _post(sandbox, _mail(custom_args={"reminder_key": key}, personalizations=[{"to": [{"email": to}]}]))

    def search(query: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = client.messages.get(query_params={"query": query, "limit": 10}).to_dict[
            "messages"
        ]
        return found

    [row] = search("unique_args['reminder_key']=\"rk-2\"")
    assert (row["to_email"], row["status"], row["from_email"]) == (
        "joe@example.org",
        "delivered",
        "billing@example.com",
    )
    assert row["msg_id"].split(".")[0] == sandbox.control.messages(reminder_key="rk-2")[0]["provider_id"]
    assert [r["to_email"] for r in search('(to_email="JANE@example.org")')] == ["jane@example.org"]
    window = 'last_event_time BETWEEN TIMESTAMP "2000-01-01T00:00:00Z" AND TIMESTAMP "2999-01-01T00:00:00Z"'
    assert len(search(f'{window} AND subject="Invoice"')) == 2
    assert search(f'unique_args[\'reminder_key\']="rk-1" AND to_email="joe@example.org" AND {window}') == []
    with pytest.raises(http_errors.BadRequestsError):
        search("reminder_key = rk-1")
