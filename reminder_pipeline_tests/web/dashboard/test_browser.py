"""End to end in real headless Chromium (Debian's, driven by Playwright): filters change the table, a
payment posted to the webhook appears without a reload, a collector action is saved, audited and changes
the next plan, a viewer cannot act, an open page stops listening when its session ends. One server for
the module, on the embedded SQLite ledger."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.ledger.schema import collector_actions
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger
from reminder_pipeline.reminders.service import plan_and_record_day
from reminder_pipeline.web import create_app
from reminder_pipeline_tests.web.dashboard.conftest import DAY, FAST, NOW, PASSWORD, Board, seed
from reminder_pipeline_tests.web.server import RunningApp
from reminder_pipeline_tests.web.signing import MovableClock, Secrets, payment, payment_post

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'ledger.sqlite'}"
    upgrade_ledger(url)
    with Ledger(url) as ledger:
        seed(ledger, folder)
        secrets, clock = Secrets(), MovableClock(NOW)
        app = create_app(url, settings=secrets.settings(clock), dashboard=FAST)
        with RunningApp(app) as running:
            yield Board(running.url, ledger, secrets, clock)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make setup` (it installs it with apt-get)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


def _logged_in(browser: Browser, board: Board, username: str) -> Page:
    page = browser.new_context(locale="en-GB").new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{board.url}/customers")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    return page


def test_filters_change_the_table_and_the_url(browser: Browser, served: Board) -> None:
    page = _logged_in(browser, served, "vic")
    table = page.locator("#customer-table tbody")
    expect(table.locator("tr")).to_have_count(3)
    page.get_by_label("Status").select_option("current")
    expect(table.locator("tr")).to_have_count(1)
    expect(table).to_contain_text("Chloé Martin")
    expect(page).to_have_url(re.compile(r"status=current"))
    page.get_by_label("Status").select_option("")
    page.get_by_label("Owed at least").fill("200")
    page.get_by_label("Owed at least").press("Enter")
    expect(table.locator("tr")).to_have_count(1)
    expect(table).to_contain_text("Bob Jones")
    page.get_by_role("link", name=re.compile("^Owed")).click()
    expect(page).to_have_url(re.compile(r"sort=owed"))
    page.reload()
    expect(table.locator("tr")).to_have_count(1)
    page.context.close()


def test_a_payment_posted_to_the_webhook_appears_without_a_reload(browser: Browser, served: Board) -> None:
    page = _logged_in(browser, served, "vic")
    page.goto(f"{served.url}/customers/A")
    expect(page.locator("#owed")).to_contain_text("100.00")
    page.evaluate("window.__not_reloaded = true")
    post = payment_post(served.secrets, payment("P-browser", "A-1", "100.00"), NOW)
    answer = httpx.post(served.url + post.path, content=post.body, headers=post.headers, timeout=30)
    assert answer.status_code == 200, answer.text
    expect(page.locator("#owed")).to_have_text("nothing", timeout=10_000)
    expect(page.locator("#payments")).to_contain_text("A-1")
    expect(page.locator("#live-status")).to_contain_text("payment")
    assert page.evaluate("window.__not_reloaded") is True
    page.context.close()


def test_a_collector_action_is_saved_audited_and_changes_the_next_plan(browser: Browser, served: Board) -> None:
    page = _logged_in(browser, served, "cora")
    page.goto(f"{served.url}/customers/B")
    page.get_by_label("Until (inclusive)").fill("2026-03-20")
    page.get_by_label("Note", exact=True).first.fill("on holiday, asked us to wait")
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#action-result")).to_contain_text("Saved")
    expect(page.locator("#audit")).to_contain_text("cora")
    expect(page.locator("#audit")).to_contain_text("pause")
    expect(page.locator("#queue")).to_have_text("waiting on a promise or dispute")
    with served.ledger.begin() as connection:
        audit = connection.execute(select(collector_actions.c.actor, collector_actions.c.kind)).all()
    assert ("cora", "pause") in [tuple(r) for r in audit]
    at = datetime.combine(DAY, time(5), tzinfo=UTC)
    plan = plan_and_record_day(served.ledger, load_policy(), DAY, at, run_id="browser", business_tz="UTC")
    decided = {r["customer_id"]: r["reason"] for r in plan.decisions.iter_rows(named=True)}
    assert decided["B"] == "paused_by_collector"
    page.context.close()


def test_a_viewer_cannot_act(browser: Browser, served: Board) -> None:
    page = _logged_in(browser, served, "vic")
    page.goto(f"{served.url}/customers/C")
    expect(page.get_by_text("can read but not act")).to_be_visible()
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    status = page.evaluate(
        """async () => {
            const token = document.querySelector('meta[name="csrf-token"]').content;
            const body = new URLSearchParams({kind: 'pause', until: '2026-03-20', csrf_token: token});
            const r = await fetch('/customers/C/actions', {method: 'POST', body});
            return r.status;
        }"""
    )
    assert status == 403
    page.context.close()


def test_an_open_page_says_so_and_stops_listening_when_its_session_ends(browser: Browser, served: Board) -> None:
    page = _logged_in(browser, served, "vic")
    page.goto(f"{served.url}/customers/A")
    expect(page.locator("#live-status")).not_to_contain_text("session has ended")
    other_tab = page.context.new_page()
    other_tab.goto(f"{served.url}/customers")
    other_tab.get_by_role("button", name="Log out").click()
    expect(other_tab).to_have_url(re.compile(r"/login"))
    expect(page.locator("#live-status")).to_contain_text("Your session has ended", timeout=5_000)
    page.wait_for_timeout(1_000 * (FAST.stream_seconds + 1))  # past the stream's own end: no reconnect
    expect(page.locator("#live-status")).to_contain_text("Your session has ended")
    page.context.close()
