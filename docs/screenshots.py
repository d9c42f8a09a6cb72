"""Regenerate every screenshot in docs/ from a real demo, so that none of them goes stale.

``make screenshots`` (or the command below) runs ``reminders demo`` into a temporary folder, serves its
Dagster instance with ``dagster-webserver`` and its ledger with ``reminders serve`` (a collector user
added, a promise and a pause recorded), and captures each page of ``SHOTS`` with headless Debian
chromium through Playwright, at laptop size (1440 x 900). Each page is captured once a selector shows
its content has rendered (asset nodes with their status, charts drawn, table rows), never after a fixed
sleep. Every process is stopped, with its children, whatever fails::

    .tools/bin/uv run --locked python docs/screenshots.py                         # a fresh demo (minutes)
    .tools/bin/uv run --locked python docs/screenshots.py --workdir data/demo --reuse  # after make demo

``--reuse`` leaves the demo folder as it is: the dashboard is served on a copy of its ledger. Only the
webserver runs, not the Dagster daemon, so that the sensors running by default launch nothing meanwhile.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS))

from screenshot_servers import free_port, run_checked, serving  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Page

VIEWPORT = {"width": 1440, "height": 900}
USERNAME = "cora"
PASSWORD = "screenshots only"  # noqa: S105 - a throwaway user of a throwaway ledger copy
CHARTS_DRAWN = (
    "() => { const c = [...document.querySelectorAll('canvas.chart')];"
    " return c.length > 0 && window.Chart && c.every(x => window.Chart.getChart(x)); }"
)
GRAPH_DRAWN = (
    "(count) => { const n = [...document.querySelectorAll('[class*=AssetNode_minimalAssetNodeBox]')];"
    " const green = n.filter(x => x.style.getPropertyValue('--minimal-bg').includes('green'))"
    ".map(x => x.textContent);"
    " return n.length === Number(count) && ['customers', 'invoices', 'payments', 'risk_model']"
    ".every(name => green.includes(name)); }"
)
"""Every asset's node drawn and their statuses loaded: the assets the demo materializes whole are green."""
METADATA = "[placeholder='Filter metadata keys']"
CUSTOMER = "{customer}"
"""In a path, the demo customer the script recorded a call and a promise for (its page is the tour's)."""
LAST_DAY = "{last_day}"
"""In a path, the demo's last business day."""
QUIET_DAGSTER = (
    "localStorage.setItem('communityNux', '\"1\"');"  # the newsletter dialog a loopback UI opens once
    "localStorage.setItem('dagster-nav-collapsed', 'true');"  # more room for the page itself
)


def expand_lineage(page: Page) -> None:
    """Hide the asset list and expand every group (the background's menu), so that each asset is a node."""
    page.get_by_text("ingestion", exact=True).first.wait_for()
    page.locator("button:has([aria-label='panel_show_right'])").click()
    page.mouse.click(VIEWPORT["width"] - 300, VIEWPORT["height"] - 150, button="right")
    page.get_by_role("menuitem", name="Expand all groups").click()


def to_metadata(page: Page) -> None:
    """Scroll the asset's overview to its latest materialization's metadata, once its status has loaded."""
    page.get_by_text("Latest materialization").first.wait_for()
    page.locator(METADATA).wait_for()
    page.get_by_text("Metadata", exact=True).first.evaluate("e => e.scrollIntoView({block: 'start'})")


def open_first_plot(page: Page) -> None:
    """The metadata, with its first chart (a Markdown image) opened."""
    to_metadata(page)
    page.get_by_text("[Show Markdown]").first.click()


@dataclass(frozen=True)
class Shot:
    name: str
    """The PNG in docs/."""
    app: str
    """``dagster`` or ``dashboard``."""
    path: str
    ready: str
    """A selector (or, starting with ``(``, a JavaScript predicate) that holds once the page is drawn."""
    prepare: Callable[[Page], None] | None = None
    """What to do on the page before waiting for ``ready`` (expand, scroll, open a chart)."""
    height: int | None = None
    """Capture the page's top ``height`` pixels (at most the page) rather than the window."""


SHOTS = (
    Shot("asset-lineage.png", "dagster", "/asset-groups", GRAPH_DRAWN, expand_lineage),
    Shot(
        "invoices-partitions.png",
        "dagster",
        f"/assets/invoices?view=partitions&partition={LAST_DAY}",
        "text=quarantine_rate",
    ),
    Shot("risk-scores-metadata.png", "dagster", "/assets/risk_scores", "[role=dialog] img", open_first_plot),
    Shot("risk-scores-checks.png", "dagster", "/assets/risk_scores?view=checks", "text=Evaluation result"),
    Shot("invoices-metadata.png", "dagster", "/assets/invoices", METADATA, to_metadata),
    Shot("reminder-plan-metadata.png", "dagster", "/assets/reminder_plan", METADATA, to_metadata),
    Shot("rendered-messages-metadata.png", "dagster", "/assets/rendered_messages", METADATA, to_metadata),
    Shot("dashboard-overview.png", "dashboard", "/", CHARTS_DRAWN),
    Shot("dashboard-customers.png", "dashboard", "/customers?status=ready", "#customer-table tbody tr"),
    Shot("dashboard-worklist.png", "dashboard", "/worklist", "section.queue table.data tbody tr"),
    Shot("dashboard-customer.png", "dashboard", f"/customers/{CUSTOMER}", "#audit tbody tr"),
)
TOUR = ("dashboard-overview.png", "dashboard-worklist.png", "dashboard-customer.png", "asset-lineage.png")
"""The README's five-minute tour: the dashboard, the worklist, a customer page and the asset graph."""


def asset_count() -> int:
    from reminder_pipeline.definitions import defs

    return len(defs.get_repository_def().asset_graph.get_all_asset_keys())


def last_day(workdir: Path) -> str:
    """The demo's last business day (its last reminders), read from its ledger."""
    with contextlib.closing(sqlite3.connect(f"file:{workdir / 'ledger.sqlite'}?mode=ro", uri=True)) as ledger:
        return str(ledger.execute("SELECT max(business_date) FROM outbox").fetchone()[0])


def demo_environment(workdir: Path) -> dict[str, str]:
    """This process's environment with the demo's ``demo.env`` (its instance, ledger and link secret)."""
    variables = dict(line.split("=", 1) for line in (workdir / "demo.env").read_text().splitlines() if "=" in line)
    environment = {**os.environ, **variables}
    environment.pop("REMINDERS_SOURCE_CONFIG", None)
    return environment


def copy_ledger(workdir: Path, scratch: Path) -> str:
    """A consistent copy of the demo's SQLite ledger (SQLite's backup), so the dashboard's writes stay there."""
    target = scratch / "ledger.sqlite"
    source, copy = sqlite3.connect(workdir / "ledger.sqlite"), sqlite3.connect(target)
    with contextlib.closing(source), contextlib.closing(copy):
        source.backup(copy)
    return f"sqlite:///{target}"


def record_collector_work(url: str) -> str:
    """A collector user; a call with a promise on the riskiest customer sent a reminder today, a pause on the next.

    Returns the first one's id: their page shows the reminder, its delivery and the actions.
    """
    from sqlalchemy import func, select

    from reminder_pipeline.collections.actions import Action, ActionKind, CallOutcome, record_action
    from reminder_pipeline.collections.users import Role, add_user
    from reminder_pipeline.ledger.schema import outbox, risk_scores
    from reminder_pipeline.ledger.store import Ledger

    now = datetime.now(UTC)
    with Ledger(url) as ledger:
        user = add_user(ledger, USERNAME, PASSWORD, Role.COLLECTOR)
        with ledger.begin() as connection:
            last_day = connection.execute(select(func.max(outbox.c.business_date))).scalar_one()
            scored = connection.execute(select(func.max(risk_scores.c.business_date))).scalar_one()
            riskiest = connection.execute(
                select(outbox.c.customer_id)
                .join(risk_scores, risk_scores.c.customer_id == outbox.c.customer_id)
                .where(outbox.c.business_date == last_day, outbox.c.status == "sent")
                .where(risk_scores.c.business_date == scored)
                .group_by(outbox.c.customer_id)
                .order_by(func.max(risk_scores.c.p_late).desc(), outbox.c.customer_id)
                .limit(2)
            ).scalars()
            first, second = list(riskiest)
        today: date = last_day
        for action in (
            Action(ActionKind.CALL, first, outcome=CallOutcome.PROMISED, note="spoke to accounts payable"),
            Action(ActionKind.PROMISE, first, until=today + timedelta(days=5), note="pays on Friday"),
            Action(ActionKind.PAUSE, second, until=today + timedelta(days=10), note="on holiday until the 10th"),
        ):
            record_action(ledger, action, user, now, today)
    return str(first)


def capture(base: str, shots: list[Shot], log_in: bool, values: dict[str, str], assets: int = 0) -> None:
    """Each shot's page, once drawn, into docs/; ``values`` fill the paths' placeholders."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        try:
            context = browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="UTC")
            context.add_init_script(QUIET_DAGSTER)
            context.set_default_timeout(120_000)
            page = context.new_page()
            if log_in:
                page.goto(f"{base}/login")
                page.get_by_label("Username").fill(USERNAME)
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                page.wait_for_url(f"{base}/")
            for shot in shots:
                path = shot.path
                for placeholder, value in values.items():
                    path = path.replace(placeholder, value)
                page.goto(base + path)
                if shot.prepare:
                    shot.prepare(page)
                if shot.ready.startswith("("):
                    page.wait_for_function(shot.ready, arg=assets)
                else:
                    page.locator(shot.ready).first.wait_for(state="visible")
                clip = None
                if shot.height:
                    tall = min(shot.height, int(page.evaluate("document.documentElement.scrollHeight")))
                    clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": tall}
                page.screenshot(
                    path=str(DOCS / shot.name), full_page=clip is not None, clip=clip, animations="disabled"
                )
                print(f"wrote docs/{shot.name}", flush=True)
        finally:
            browser.close()


def run_demo(workdir: Path, log: Path) -> None:
    print(f"running the demo into {workdir} (a few minutes; its output goes to {log})", flush=True)
    run_checked([sys.executable, "-m", "reminder_pipeline.cli", "demo", "--workdir", str(workdir)], log, ROOT)


def take(workdir: Path, scratch: Path, shots: list[Shot]) -> None:
    environment = demo_environment(workdir)
    dagster_shots = [s for s in shots if s.app == "dagster"]
    board_shots = [s for s in shots if s.app == "dashboard"]
    if dagster_shots:
        port = free_port()
        command = [str(Path(sys.executable).parent / "dagster-webserver"), "-m", "reminder_pipeline.definitions"]
        command += ["-h", "127.0.0.1", "-p", str(port)]
        with serving(command, environment, workdir, f"http://127.0.0.1:{port}/server_info", scratch / "dagster.log"):
            values = {LAST_DAY: last_day(workdir)}
            capture(f"http://127.0.0.1:{port}", dagster_shots, log_in=False, values=values, assets=asset_count())
    if board_shots:
        url = copy_ledger(workdir, scratch)
        customer = record_collector_work(url)
        port = free_port()
        board = {**environment, "REMINDERS_DB_URL": url, "REMINDERS_SESSION_SECRET": "screenshots"}
        board["REMINDERS_COOKIE_SECURE"] = "false"
        command = [sys.executable, "-m", "reminder_pipeline.cli", "serve", "--port", str(port), "--db", url]
        with serving(command, board, scratch, f"http://127.0.0.1:{port}/healthz", scratch / "serve.log"):
            capture(f"http://127.0.0.1:{port}", board_shots, log_in=True, values={CUSTOMER: customer})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="the demo's folder (default: a temporary one, deleted after)")
    parser.add_argument("--reuse", action="store_true", help="use the demo already in --workdir, do not run it")
    parser.add_argument("--only", action="append", default=[], help="a regular expression of the PNGs to take")
    options = parser.parse_args(argv)
    if options.reuse and options.workdir is None:
        parser.error("--reuse needs --workdir (the folder of an earlier demo)")
    shots = [s for s in SHOTS if not options.only or any(re.search(p, s.name) for p in options.only)]
    with tempfile.TemporaryDirectory(prefix="screenshots-") as temporary:
        scratch = Path(temporary)
        workdir = (options.workdir or scratch / "demo").resolve()
        if not options.reuse:
            run_demo(workdir, scratch / "demo.log")
        take(workdir, scratch, shots)


if __name__ == "__main__":
    main()
