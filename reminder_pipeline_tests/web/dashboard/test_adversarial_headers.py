"""Every response carries the security headers (a CSP the vendored htmx and Chart.js run under, no framing,
no sniffing, a same-origin referrer); the live stream needs a session; the webhooks still need none. On a
real server, SQLite and PostgreSQL, and the CSP checked in real headless Chromium."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, expect, sync_playwright
from sqlalchemy import select

from reminder_pipeline.ledger.schema import payments
from reminder_pipeline.web.dashboard.auth import SESSION_COOKIE
from reminder_pipeline_tests.web.dashboard.conftest import NOW, PASSWORD, Board, login
from reminder_pipeline_tests.web.signing import payment, payment_post

CHROMIUM = Path("/usr/bin/chromium")
PATHS = ["/", "/customers", "/customers?band=high", "/worklist", "/customers/A", "/customers/NOBODY"]


def _assert_secured(answer: httpx.Response) -> None:
    csp = answer.headers.get("content-security-policy", "")
    assert "default-src 'self'" in csp, answer.url
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert answer.headers.get("x-content-type-options") == "nosniff"
    assert answer.headers.get("x-frame-options") == "DENY"
    assert answer.headers.get("referrer-policy") in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")


def test_every_kind_of_response_carries_the_security_headers(board: Board) -> None:
    with httpx.Client(base_url=board.url, timeout=30) as anonymous:
        for path in ["/login", "/", "/live", "/healthz", "/static/dashboard/app.js", "/static/dashboard/missing.js"]:
            _assert_secured(anonymous.get(path, follow_redirects=False))
        _assert_secured(anonymous.post("/webhooks/payments", content=b"{}"))
        _assert_secured(anonymous.post("/logout", data={}))
    client = login(board.url, "cora")
    for path in PATHS:
        answer = client.get(path)
        assert answer.status_code in (200, 404)
        _assert_secured(answer)
        assert answer.headers["cache-control"] == "no-store"
    with client.stream("GET", "/live") as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        _assert_secured(stream)


def test_the_live_stream_needs_a_session(board: Board) -> None:
    for cookies in ({}, {SESSION_COOKIE: "garbage"}):
        with httpx.Client(base_url=board.url, timeout=30, cookies=cookies) as client:
            answer = client.get("/live", params={"after": "0"}, headers={"Accept": "text/event-stream"})
            assert answer.status_code == 401
            assert "event:" not in answer.text


def test_a_signed_payment_webhook_is_taken_without_any_login(board: Board) -> None:
    post = payment_post(board.secrets, payment("P-ADV-1", "A-1", "100.00"), NOW)
    with httpx.Client(base_url=board.url, timeout=30) as anonymous:
        answer = anonymous.post(post.path, content=post.body, headers=post.headers)
        assert answer.status_code == 200, answer.text
        forged = anonymous.post(post.path, content=post.body, headers={**post.headers, "X-Reminders-Signature": "x"})
        assert forged.status_code in (400, 401, 403)
    with board.ledger.begin() as connection:
        assert connection.execute(select(payments.c.invoice_id).where(payments.c.payment_id == "P-ADV-1")).all()


@pytest.fixture
def console(board: Board) -> Iterator[tuple[list[str], Page]]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make setup` (it installs it with apt-get)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        page = chromium.new_context(locale="en-GB").new_page()
        page.set_default_timeout(10_000)
        messages: list[str] = []

        def keep(message: ConsoleMessage) -> None:
            messages.append(message.text)

        page.on("console", keep)
        yield messages, page
        chromium.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)
def _wait_until_a_chart_is_drawn(page: Page, seconds: float = 15.0) -> None:
    """Polled from here: ``wait_for_function`` builds its predicate with eval inside the page, which this
    very CSP forbids (a CSP violation whenever the chart was not drawn at the first look)."""
    drawn = "() => Boolean(window.Chart && Chart.getChart(document.querySelector('canvas.chart')))"
    deadline = time.monotonic() + seconds
    while not page.evaluate(drawn):
        assert time.monotonic() < deadline, "no chart was drawn"
        page.wait_for_timeout(100)


def test_the_dashboard_runs_under_its_csp_in_chromium(board: Board, console: tuple[list[str], Page]) -> None:
    messages, page = console
    page.goto(f"{board.url}/login?next=/")
    page.get_by_label("Username").fill("cora")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{board.url}/")
    _wait_until_a_chart_is_drawn(page)
    page.goto(f"{board.url}/customers")
    page.get_by_label("Name or id").fill("Bob")
    page.get_by_label("Name or id").press("Enter")
    expect(page.locator("#count")).to_have_text(re.compile(r"^1 customers"))
    assert "q=Bob" in page.url
    violations = [m for m in messages if "Content Security Policy" in m or "Refused to" in m]
    assert violations == []
