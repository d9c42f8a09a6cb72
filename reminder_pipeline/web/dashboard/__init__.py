"""The collections dashboard of ``reminders serve``: login, overview, customers, worklist, customer pages,
collector actions and live updates, all behind a session (the webhooks stay outside it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from reminder_pipeline.dashboard.snapshot import Snapshot
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.web.dashboard.auth import Sessions
from reminder_pipeline.web.dashboard.resubmit import Resubmissions
from reminder_pipeline.web.dashboard.settings import DashboardSettings
from reminder_pipeline.web.dashboard.throttle import LoginThrottle
from reminder_pipeline.web.dashboard.watch import StreamSessions

HERE = Path(__file__).parent


@dataclass
class Dashboard:
    ledger: Ledger
    settings: DashboardSettings
    sessions: Sessions
    snapshot: Snapshot
    templates: Environment
    clock: Callable[[], datetime]
    business_tz: str
    throttle: LoginThrottle
    streams: StreamSessions
    """The sessions of the open live streams, looked up again together (a stream ends with its session)."""
    resubmissions: Resubmissions = field(default_factory=Resubmissions)

    def today(self) -> date:
        return self.clock().astimezone(ZoneInfo(self.business_tz)).date()

    def start(self) -> None:
        """Load the snapshot and keep it current, from the first dashboard request on (a server that only
        takes webhooks never reads for the dashboard)."""
        self.snapshot.start()

    def wait_until_loaded(self, seconds: float = 60.0) -> None:
        self.start()
        self.snapshot.ready.wait(seconds)

    def stop(self) -> None:
        self.snapshot.stop()


def make_dashboard(
    ledger: Ledger, settings: DashboardSettings, clock: Callable[[], datetime], business_tz: str
) -> Dashboard:
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]), auto_reload=False
    )

    def today() -> date:
        return clock().astimezone(ZoneInfo(business_tz)).date()

    snapshot = Snapshot(
        ledger,
        today,
        aging_edges=settings.aging_edges,
        promise_grace_days=settings.promise_grace_days,
        poll_seconds=settings.poll_seconds,
        full_seconds=settings.full_seconds,
    )
    throttle = LoginThrottle(
        ledger,
        settings.session_secret,
        settings.login_failures_per_user,
        settings.login_failures_per_address,
        settings.login_window_seconds,
    )
    sessions = Sessions(ledger, settings)
    streams = StreamSessions(ledger, sessions.clock, settings.session_check_seconds)
    return Dashboard(ledger, settings, sessions, snapshot, templates, clock, business_tz, throttle, streams)


def dashboard_routes() -> list[BaseRoute]:
    from reminder_pipeline.web.dashboard import act, live, pages
    from reminder_pipeline.web.dashboard.auth import requires

    return [
        Route("/", requires()(pages.overview), methods=["GET"]),
        Route("/customers", requires()(pages.customers), methods=["GET"]),
        Route("/customers/{customer_id:str}", requires()(pages.customer_page), methods=["GET"]),
        Route("/customers/{customer_id:str}/actions", act.action, methods=["POST"]),
        Route("/worklist", requires()(pages.worklist), methods=["GET"]),
        Route("/live", live.stream, methods=["GET"]),
        Route("/login", act.login_form, methods=["GET"]),
        Route("/login", act.login, methods=["POST"]),
        Route("/logout", act.logout, methods=["POST"]),
        Mount("/static/dashboard", app=StaticFiles(directory=HERE / "static"), name="dashboard_static"),
    ]
