"""The overview's aging is in the policy's buckets (its ``aging_edges``), as the segments and the ingestion
summary are: the shipped policy's by default, a policy's with other edges in other buckets."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.web import create_app
from reminder_pipeline.web.dashboard.pages import aging_label
from reminder_pipeline.web.dashboard.settings import DashboardSettings
from reminder_pipeline_tests.web.dashboard.conftest import FAST, NOW, login, seed
from reminder_pipeline_tests.web.server import RunningApp
from reminder_pipeline_tests.web.signing import MovableClock, Secrets


def _aging_charts(page: str) -> dict[str, dict[str, float]]:
    """Each currency's aging chart as drawn: its labels and values."""
    charts = [json.loads(html.unescape(raw)) for raw in re.findall(r"data-chart='([^']*)'", page)]
    bars: list[dict[str, Any]] = [c for c in charts if c["type"] == "bar"]
    return {c["label"]: dict(zip(c["labels"], c["values"], strict=True)) for c in bars}


@pytest.mark.parametrize(
    ("dashboard", "eur", "usd"),
    [
        (  # the shipped policy's edges, 7, 30, 60
            FAST,
            {"not yet due": 50.0, "1–7 days": 0.0, "8–30 days": 100.0, "31–60 days": 0.0, "over 60 days": 0.0},
            {"not yet due": 0.0, "1–7 days": 0.0, "8–30 days": 300.0, "31–60 days": 0.0, "over 60 days": 0.0},
        ),
        (
            replace(FAST, aging_edges=(10, 45)),
            {"not yet due": 50.0, "1–10 days": 100.0, "11–45 days": 0.0, "over 45 days": 0.0},
            {"not yet due": 0.0, "1–10 days": 0.0, "11–45 days": 300.0, "over 45 days": 0.0},
        ),
    ],
    ids=["shipped-policy", "other-edges"],
)
def test_the_overview_shows_the_aging_in_the_policys_buckets(
    ledger: Ledger, tmp_path: Path, dashboard: DashboardSettings, eur: dict[str, float], usd: dict[str, float]
) -> None:
    seed(ledger, tmp_path)  # A owes 100 EUR 8 days late, B 300 USD 15 days late, C 50 EUR due later
    secrets = Secrets()
    app = create_app(ledger.url, settings=secrets.settings(MovableClock(NOW)), dashboard=dashboard)
    with RunningApp(app) as running:
        page = login(running.url, "vic").get("/").text
    assert _aging_charts(page) == {"EUR": eur, "USD": usd}
    for label in eur:
        assert f'<th scope="col">{label}</th>' in page, "the table under the chart names the same buckets"


def test_a_bucket_is_named_for_people() -> None:
    assert [aging_label(b) for b in ["not yet due", "1-7", "8-30", "60+"]] == [
        "not yet due",
        "1–7 days",
        "8–30 days",
        "over 60 days",
    ]
