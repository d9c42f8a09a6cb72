"""A user holds at most ``sessions_per_user`` dashboard sessions (``REMINDERS_SESSIONS_PER_USER``, 10 by
default): a login past it ends their oldest, whose cookie then opens nothing. On a real server, SQLite
and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from reminder_pipeline.core.yaml_config import ConfigError
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.web import create_app
from reminder_pipeline.web.dashboard.settings import SESSIONS_PER_USER_ENV, DashboardSettings
from reminder_pipeline_tests.web.dashboard.conftest import FAST, NOW, login, seed
from reminder_pipeline_tests.web.server import RunningApp
from reminder_pipeline_tests.web.signing import MovableClock, Secrets


def test_a_login_past_the_cap_logs_the_users_oldest_browser_out(ledger: Ledger, tmp_path: Path) -> None:
    seed(ledger, tmp_path)
    app = create_app(
        ledger.url, settings=Secrets().settings(MovableClock(NOW)), dashboard=replace(FAST, sessions_per_user=2)
    )
    with RunningApp(app) as running:
        browsers = [login(running.url, "cora") for _ in range(3)]
        ada = login(running.url, "ada")
        answers = [browser.get("/").status_code for browser in browsers]
        assert answers == [303, 200, 200], "the first login's session ended with the third"
        assert browsers[0].get("/").headers["location"].startswith("/login")
        assert browsers[0].get("/live").status_code == 401
        assert ada.get("/").status_code == 200
        for client in [*browsers, ada]:
            client.close()


def test_the_cap_is_ten_unless_the_environment_says_otherwise() -> None:
    assert DashboardSettings().sessions_per_user == 10
    assert DashboardSettings.from_environment({}).sessions_per_user == 10
    assert DashboardSettings.from_environment({SESSIONS_PER_USER_ENV: " 3 "}).sessions_per_user == 3
    for bad in ("0", "-2", "ten", "2.5", "³"):
        with pytest.raises(ConfigError, match=SESSIONS_PER_USER_ENV):
            DashboardSettings.from_environment({SESSIONS_PER_USER_ENV: bad})
