"""Script smuggled in through every text the dashboard shows — a customer's name and id, an invoice id, a
reply, a call note, a collector's note — and through every filter echoed in the page: all of it comes
back escaped, in text, attributes and the charts' JSON alike. On a real server, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import polars as pl
import pytest
from sqlalchemy import insert

from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.ledger.schema import replies
from reminder_pipeline_tests.ingestion.helpers import ingest_file
from reminder_pipeline_tests.web.dashboard.conftest import DAY, NOW, Board, csrf_of, login

SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(2)>"
QUOTES = "\"'><svg onload=alert(3)>"
PAYLOAD = f"{SCRIPT}{IMAGE}{QUOTES}{{{{7*7}}}}"
HOSTILE_ID = "X'\"><b>id"
HOSTILE_INVOICE = "INV-<i>x</i>\"'"
RAW = [SCRIPT, IMAGE, "<svg onload", "<b>id", "<i>x</i>"]


def _seed_hostile(board: Board, folder: Path) -> None:
    customers = pl.DataFrame(
        {
            "customer_id": [HOSTILE_ID],
            "name": [PAYLOAD],
            "email": ["mallory@example.com"],
            "country": ["DE"],
            "time_zone": ["Europe/Berlin"],
            "locale": ["de_DE"],
            "preferred_channel": ["email"],
        }
    )
    invoices = pl.DataFrame(
        {
            "invoice_id": [HOSTILE_INVOICE],
            "customer_id": [HOSTILE_ID],
            "issue_date": ["2026-01-05"],
            "due_date": [str(DAY - timedelta(days=40))],
            "amount": ["999.00"],
            "currency": ["EUR"],
        }
    )
    for frame, entity in ((customers, Entity.CUSTOMERS), (invoices, Entity.INVOICES)):
        path = folder / f"hostile_{entity.value}.csv"
        frame.write_csv(path)
        report = ingest_file(board.ledger, path, entity)
        assert report.quarantined == 0, report
    with board.ledger.begin() as connection:
        connection.execute(
            insert(replies).values(
                channel="sms",
                provider_id="SM-hostile",
                customer_id=HOSTILE_ID,
                sender="+4915112345678",
                body=PAYLOAD,
                received_at=NOW,
                intent="other",
                confidence=0.5,
                action=SCRIPT,
                detail=IMAGE,
            )
        )


def _assert_inert(page: httpx.Response) -> None:
    assert page.status_code in (200, 400, 404), page.status_code
    for raw in RAW:
        assert raw not in page.text, raw


def _page_of(client: httpx.Client, customer_id: str) -> httpx.Response:
    return client.get(f"/customers/{httpx.URL('/' + customer_id).raw_path.decode()[1:]}")


def test_hostile_customer_invoice_and_reply_texts_are_shown_escaped(board: Board, tmp_path: Path) -> None:
    _seed_hostile(board, tmp_path)
    client = login(board.url, "cora")
    board_page = _page_of(client, HOSTILE_ID)
    assert board_page.status_code == 200
    token = csrf_of(board_page.text)
    target = f"/customers/{httpx.URL('/' + HOSTILE_ID).raw_path.decode()[1:]}/actions"
    for form in (
        {"kind": "call", "outcome": "reached", "note": PAYLOAD},
        {"kind": "pause", "until": str(DAY + timedelta(days=3)), "note": PAYLOAD},
        {"kind": "dispute", "invoice_id": HOSTILE_INVOICE, "note": PAYLOAD},
        {"kind": "promise", "until": str(DAY + timedelta(days=5)), "note": PAYLOAD},
    ):
        saved = client.post(target, data={**form, "csrf_token": token})
        assert saved.status_code == 303, (form["kind"], saved.text[:300])
    page = _page_of(client, HOSTILE_ID)
    _assert_inert(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert page.text.count("&lt;script&gt;") >= 5
    for path in ("/", "/customers", "/customers?q=script", "/worklist", "/customers?status=waiting"):
        _assert_inert(client.get(path))
    _assert_inert(client.get("/customers?q=script", headers={"HX-Request": "true", "HX-Target": "table-area"}))


@pytest.mark.parametrize("field", ["q", "band", "segment", "channel", "status", "sort", "dir", "page", "min_owed"])
def test_filters_echoed_in_the_customer_table_are_escaped(board: Board, field: str) -> None:
    client = login(board.url, "vic")
    for headers in ({}, {"HX-Request": "true", "HX-Target": "table-area"}):
        page = client.get("/customers", params={field: PAYLOAD, "due_from": PAYLOAD}, headers=headers)
        assert page.status_code == 200
        _assert_inert(page)


def test_paths_and_next_echoed_are_escaped(board: Board) -> None:
    client = login(board.url, "vic")
    _assert_inert(_page_of(client, PAYLOAD))
    with httpx.Client(base_url=board.url, timeout=30) as anonymous:
        _assert_inert(anonymous.get("/login", params={"next": "/" + PAYLOAD.replace(" ", "")}))
        refused = anonymous.get("/customers", params={"q": PAYLOAD}, follow_redirects=False)
        assert refused.status_code == 303
        assert not any(raw in refused.headers["location"] for raw in RAW)
