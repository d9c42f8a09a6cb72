"""Regenerate the dashboard screenshots in docs/ (overview, customers, worklist, a customer page).

Serves the dashboard on a synthetic ledger (``benchmarks/dashboard_seed.py``, small) with a pause and a
promise recorded, logs in with headless Debian chromium (Playwright) and captures each page::

    .tools/bin/uv run --locked python docs/screenshots.py
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.dashboard_seed import seed  # noqa: E402
from reminder_pipeline.collections.actions import Action, ActionKind, CallOutcome, record_action  # noqa: E402
from reminder_pipeline.collections.users import Role, add_user  # noqa: E402
from reminder_pipeline.ledger.schema import risk_scores  # noqa: E402
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger  # noqa: E402
from reminder_pipeline.web import create_app  # noqa: E402
from reminder_pipeline.web.dashboard.settings import DashboardSettings  # noqa: E402
from reminder_pipeline.web.settings import WebSettings  # noqa: E402

DOCS = ROOT / "docs"
PASSWORD = "screenshots only"  # noqa: S105
SHOTS = {
    "dashboard-overview.png": "/",
    "dashboard-customers.png": "/customers?status=ready",
    "dashboard-worklist.png": "/worklist",
}


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite:///{work}/ledger.sqlite"
        upgrade_ledger(url)
        now = datetime.now(UTC)
        with Ledger(url) as ledger:
            seed(ledger, 800, 8000, now.date())
            cora = add_user(ledger, "cora", PASSWORD, Role.COLLECTOR)
            today = now.date()
            with ledger.begin() as connection:
                riskiest = connection.execute(
                    select(risk_scores.c.customer_id).order_by(risk_scores.c.p_late.desc()).limit(2)
                ).scalars()
                first, second = list(riskiest)
            for action in (
                Action(ActionKind.CALL, first, outcome=CallOutcome.PROMISED, note="spoke to accounts payable"),
                Action(ActionKind.PROMISE, first, until=today + timedelta(days=5)),
                Action(ActionKind.PAUSE, second, until=today + timedelta(days=10), note="on holiday"),
            ):
                record_action(ledger, action, cora, now, today)
            SHOTS["dashboard-customer.png"] = f"/customers/{first}"
        app = create_app(
            url,
            settings=WebSettings(),
            dashboard=DashboardSettings(session_secret="screenshots", cookie_secure=False),  # noqa: S106
        )
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
                page = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-GB").new_page()
                page.goto(f"{base}/login")
                page.get_by_label("Username").fill("cora")
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                page.wait_for_url(f"{base}/")
                for name, path in SHOTS.items():
                    page.goto(base + path)
                    page.wait_for_load_state("load")
                    page.wait_for_timeout(300)
                    page.screenshot(path=str(DOCS / name), full_page=name == "dashboard-overview.png")
                    print(f"wrote docs/{name}")
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=60)


if __name__ == "__main__":
    main()
