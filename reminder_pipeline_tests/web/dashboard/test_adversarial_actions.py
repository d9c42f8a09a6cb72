"""A careless or hostile collector at the action forms: absurd dates, amounts that are not money, fields an
action does not take, a customer that does not exist, a double click, and a viewer trying every action.
Nothing wrong is ever written, and the answer says what to change. On a real server, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from reminder_pipeline.ledger.schema import collector_actions, promises_to_pay, reminder_pauses
from reminder_pipeline_tests.web.dashboard.attacks import actions_written
from reminder_pipeline_tests.web.dashboard.conftest import DAY, Board, csrf_of, login

SOON = str(DAY + timedelta(days=5))


def _post(client: httpx.Client, form: dict[str, str], customer: str = "A") -> httpx.Response:
    token = csrf_of(client.get("/customers/A").text)
    return client.post(f"/customers/{customer}/actions", data={**form, "csrf_token": token})


@pytest.mark.parametrize(
    "form",
    [
        {"kind": "pause", "until": "9999-12-31"},
        {"kind": "pause", "until": "0001-01-01"},
        {"kind": "pause", "until": str(DAY - timedelta(days=1))},
        {"kind": "pause", "until": "2026-02-30"},
        {"kind": "pause", "until": "tomorrow"},
        {"kind": "pause"},
        {"kind": "promise", "until": "9999-12-31"},
        {"kind": "promise", "until": SOON, "amount": "-10.00"},
        {"kind": "promise", "until": SOON, "amount": "10.001"},
        {"kind": "promise", "until": SOON, "amount": "1e3"},
        {"kind": "promise", "until": SOON, "amount": "1,000.00"},
        {"kind": "promise", "until": SOON, "amount": "NaN"},
        {"kind": "promise", "until": SOON, "amount": "0"},
        {"kind": "promise", "until": SOON, "amount": "0.00"},
        {"kind": "promise", "until": SOON, "amount": "9" * 30},
        {"kind": "promise", "until": SOON, "amount": "100.01"},
        {"kind": "promise", "until": SOON, "amount": "١٠٠"},
        {"kind": "promise", "until": SOON, "invoice_id": "B-1"},
        {"kind": "dispute", "invoice_id": "B-1"},
        {"kind": "dispute", "invoice_id": "NOPE"},
        {"kind": "call"},
        {"kind": "call", "outcome": "hung up in anger"},
        {"kind": "delete"},
        {"kind": ""},
    ],
)
def test_an_absurd_action_is_refused_saying_why_and_writes_nothing(board: Board, form: dict[str, str]) -> None:
    client = login(board.url, "cora")
    answer = _post(client, form)
    assert answer.status_code == 400, answer.text[:300]
    assert "Not saved:" in answer.text
    assert actions_written(board) == 0
    with board.ledger.begin() as connection:
        assert connection.execute(select(reminder_pauses.c.pause_id)).all() == []
        assert connection.execute(select(promises_to_pay.c.promise_id)).all() == []


def test_a_promise_of_exactly_what_is_owed_is_kept_to_the_cent(board: Board) -> None:
    client = login(board.url, "cora")
    assert _post(client, {"kind": "promise", "until": SOON, "amount": "100.00"}).status_code == 303
    with board.ledger.begin() as connection:
        row = connection.execute(select(promises_to_pay.c.amount_minor, promises_to_pay.c.currency)).one()
    assert (row.amount_minor, row.currency) == (10000, "EUR")


@pytest.mark.parametrize(
    "form",
    [
        {"kind": "call", "outcome": "reached", "until": "9999-12-31", "amount": "-5", "invoice_id": "x" * 500},
        {"kind": "resume", "until": "9999-12-31", "invoice_id": "B-1"},
        {"kind": "pause", "until": SOON, "invoice_id": "x" * 500, "amount": "12"},
    ],
)
def test_fields_an_action_does_not_take_are_not_written_to_its_audit(board: Board, form: dict[str, str]) -> None:
    client = login(board.url, "cora")
    assert _post(client, form).status_code == 303
    with board.ledger.begin() as connection:
        row = connection.execute(
            select(collector_actions.c.until_date, collector_actions.c.invoice_id, collector_actions.c.amount_minor)
        ).one()
    assert row.invoice_id is None
    assert row.amount_minor is None
    assert row.until_date == (DAY + timedelta(days=5) if form["kind"] == "pause" else None)


def test_a_long_note_is_cut_to_its_limit_everywhere_it_is_written(board: Board) -> None:
    client = login(board.url, "cora")
    assert _post(client, {"kind": "pause", "until": SOON, "note": "n" * 20_000}).status_code == 303
    with board.ledger.begin() as connection:
        reason = connection.execute(select(reminder_pauses.c.reason)).scalar_one()
        note = connection.execute(select(collector_actions.c.note)).scalar_one()
    assert len(reason) == 2000
    assert 2000 < len(note) <= 2200


def test_a_form_too_large_is_413_not_a_misleading_csrf_refusal(board: Board) -> None:
    client = login(board.url, "cora")
    answer = _post(client, {"kind": "call", "outcome": "reached", "note": "n" * 100_000})
    assert answer.status_code == 413
    assert "too large" in answer.text
    with httpx.Client(base_url=board.url, timeout=30) as anonymous:
        assert anonymous.post("/login", content=b"x" * 10_000_000).status_code == 413
    assert actions_written(board) == 0


@pytest.mark.parametrize("customer", ["NOBODY", "A%20", "%2E%2E", "a", "A'--", "x" * 300])
def test_an_action_on_a_customer_that_does_not_exist_is_404_and_writes_nothing(board: Board, customer: str) -> None:
    client = login(board.url, "cora")
    answer = _post(client, {"kind": "call", "outcome": "reached"}, customer=customer)
    assert answer.status_code == 404
    assert actions_written(board) == 0


def test_a_double_click_records_one_action_and_a_deliberate_second_one_records_two(board: Board) -> None:
    client = login(board.url, "cora")
    form = {"kind": "promise", "until": SOON, "amount": "50.00", "note": "on the phone"}
    first = _post(client, form)
    second = _post(client, form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    with board.ledger.begin() as connection:
        assert len(connection.execute(select(promises_to_pay.c.promise_id)).all()) == 1
    assert actions_written(board) == 1
    other = _post(client, {**form, "amount": "20.00"})
    assert other.status_code == 303
    assert other.headers["location"] != first.headers["location"]
    assert actions_written(board) == 2


ACTIONS = [
    {"kind": "pause", "until": SOON},
    {"kind": "resume"},
    {"kind": "dispute"},
    {"kind": "dispute", "invoice_id": "A-1"},
    {"kind": "promise", "until": SOON, "amount": "10.00"},
    {"kind": "call", "outcome": "reached"},
]


@pytest.mark.parametrize("customer", ["A", "B", "C", "NOBODY"])
def test_a_viewer_is_refused_every_action_on_every_customer(board: Board, customer: str) -> None:
    client = login(board.url, "vic")
    for form in ACTIONS:
        answer = _post(client, form, customer=customer)
        assert answer.status_code == 403, form
        answer = client.post(
            f"/customers/{customer}/actions",
            data=form,
            headers={"X-CSRF-Token": csrf_of(client.get("/").text), "HX-Request": "true"},
        )
        assert answer.status_code == 403, form
    assert actions_written(board) == 0
