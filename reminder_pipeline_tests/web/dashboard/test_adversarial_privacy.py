"""Contact details as each role should see them: a viewer reads a customer's email and phone masked, a
collector (who calls and writes) in full; no list page shows them to anyone; no log line holds them, nor a
typed password. On a real server, SQLite and PostgreSQL."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import update

from reminder_pipeline.ledger.schema import customers
from reminder_pipeline.web.masking import masked_email, masked_phone
from reminder_pipeline_tests.web.dashboard.attacks import try_login
from reminder_pipeline_tests.web.dashboard.conftest import NOW, PASSWORD, Board, csrf_of, login
from reminder_pipeline_tests.web.signing import payment, payment_post

EMAIL = "anna@example.com"
PHONE = "+4915112345678"


def _with_phone(board: Board) -> None:
    with board.ledger.begin() as connection:
        connection.execute(update(customers).where(customers.c.customer_id == "A").values(phone=PHONE))


def test_a_viewer_sees_contact_details_masked_and_a_collector_in_full(board: Board) -> None:
    _with_phone(board)
    viewer = login(board.url, "vic").get("/customers/A").text
    assert EMAIL not in viewer
    assert PHONE not in viewer
    assert masked_email(EMAIL) in viewer
    assert masked_phone(PHONE) in viewer
    collector = login(board.url, "cora").get("/customers/A").text
    assert EMAIL in collector
    assert PHONE in collector


@pytest.mark.parametrize("username", ["vic", "cora", "ada"])
def test_no_list_page_shows_an_email_or_phone(board: Board, username: str) -> None:
    _with_phone(board)
    client = login(board.url, username)
    for path in ("/", "/customers", "/customers?q=anna", "/worklist", "/customers?q=example.com"):
        page = client.get(path).text
        assert EMAIL not in page, path
        assert PHONE not in page, path
    assert "No customer matches these filters." in client.get("/customers?q=example.com").text


def test_no_log_line_holds_an_email_a_phone_or_a_password(board: Board, caplog: pytest.LogCaptureFixture) -> None:
    _with_phone(board)
    caplog.set_level(logging.DEBUG)
    with httpx.Client(base_url=board.url, timeout=30) as anonymous:
        try_login(anonymous, EMAIL, PASSWORD)
        try_login(anonymous, "cora", f"{PASSWORD} typo")
        post = payment_post(board.secrets, payment("P-LOG-1", "A-1", "40.00"), NOW)
        assert anonymous.post(post.path, content=post.body, headers=post.headers).status_code == 200
        anonymous.get("/customers/A")
    client = login(board.url, "cora")
    token = csrf_of(client.get("/customers/A").text)
    client.post("/customers/A/actions", data={"kind": "call", "outcome": "reached", "note": PHONE, "csrf_token": token})
    client.post("/customers/A/actions", data={"kind": "promise", "until": "2099-01-01", "csrf_token": token})
    client.get("/customers/NOBODY")
    logged = caplog.text
    for secret in (EMAIL, PHONE, PASSWORD, "anna@", "5112345678"):
        assert secret not in logged, secret
