"""The dashboard's settings from the environment: a promise is broken after the policy's grace, as the plan has it,
and the overview's aging buckets are the policy's."""

from __future__ import annotations

from pathlib import Path

from reminder_pipeline.config_files import DEFAULT_POLICY, load_policy
from reminder_pipeline.listening.handlers import POLICY_ENV
from reminder_pipeline.web.dashboard.settings import DashboardSettings


def test_the_promise_grace_is_the_policys(tmp_path: Path) -> None:
    text = Path(DEFAULT_POLICY).read_text(encoding="utf-8")
    assert "promise_grace_days: 3 " in text
    policy = tmp_path / "policy.yaml"
    policy.write_text(text.replace("promise_grace_days: 3 ", "promise_grace_days: 9 "), encoding="utf-8")
    assert load_policy(policy).contact.promise_grace_days == 9
    assert DashboardSettings.from_environment({POLICY_ENV: str(policy)}).promise_grace_days == 9
    shipped = load_policy().contact.promise_grace_days
    assert DashboardSettings.from_environment({}).promise_grace_days == shipped


def test_the_aging_edges_are_the_policys(tmp_path: Path) -> None:
    text = Path(DEFAULT_POLICY).read_text(encoding="utf-8")
    assert "aging_edges: [7, 30, 60]" in text
    policy = tmp_path / "policy.yaml"
    policy.write_text(text.replace("aging_edges: [7, 30, 60]", "aging_edges: [10, 45]"), encoding="utf-8")
    assert DashboardSettings.from_environment({POLICY_ENV: str(policy)}).aging_edges == (10, 45)
    shipped = tuple(load_policy().segmentation.aging_edges)
    assert DashboardSettings.from_environment({}).aging_edges == shipped
    assert DashboardSettings().aging_edges == shipped
