"""Collector actions: written and audited in the ledger, and honoured by the next plan, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from reminder_pipeline.collections.actions import (
    Action,
    ActionKind,
    ActionProblem,
    CallOutcome,
    NotAllowed,
    record_action,
)
from reminder_pipeline.collections.users import Role, User
from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.ledger.schema import collector_actions, outbox
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.reminders.service import plan_and_record_day
from reminder_pipeline_tests.ingestion.helpers import ingest_file, write_csv

DAY = date(2026, 3, 10)  # a Tuesday
MORNING = datetime.combine(DAY, time(5), tzinfo=UTC)
POLICY = load_policy()
COLLECTOR = User(1, "cora", Role.COLLECTOR)


@pytest.fixture
def owing(ledger: Ledger, tmp_path: Path) -> Ledger:
    customers = write_csv(
        tmp_path / "customers.csv",
        "customer_id,name,email,country,time_zone,locale,preferred_channel\n"
        "A,Anna Schmidt,anna@example.com,DE,Europe/Berlin,de_DE,email\n"
        "B,Bob Jones,bob@example.com,US,America/New_York,en_US,email",
    )
    invoices = write_csv(
        tmp_path / "invoices.csv",
        "invoice_id,customer_id,issue_date,due_date,amount,currency\n"
        f"A-1,A,2026-01-10,{DAY - timedelta(days=8)},100.00,EUR\n"
        f"B-1,B,2026-01-01,{DAY - timedelta(days=15)},300.00,USD",
    )
    ingest_file(ledger, customers, Entity.CUSTOMERS)
    ingest_file(ledger, invoices, Entity.INVOICES)
    return ledger


def _plan(ledger: Ledger, day: date = DAY) -> dict[str, tuple[str, str | None]]:
    at = datetime.combine(day, time(5), tzinfo=UTC)
    planned = plan_and_record_day(ledger, POLICY, day, at, run_id=f"run-{day}", business_tz="UTC")
    return {r["customer_id"]: (r["decision"], r["reason"]) for r in planned.decisions.iter_rows(named=True)}


def _act(ledger: Ledger, action: Action, user: User = COLLECTOR) -> str:
    return record_action(ledger, action, user, MORNING, DAY).detail


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        (Action(ActionKind.PAUSE, "A", until=DAY + timedelta(days=5)), "paused_by_collector"),
        (Action(ActionKind.DISPUTE, "A", note="wrong quantity"), "disputed"),
        (Action(ActionKind.PROMISE, "A", until=DAY + timedelta(days=3)), "promise_to_pay_pending"),
    ],
)
def test_an_action_changes_the_next_plan_for_that_customer_only(owing: Ledger, action: Action, reason: str) -> None:
    assert _plan(owing) == {"A": ("send", None), "B": ("send", None)}
    _act(owing, action)
    assert _plan(owing) == {"A": ("skip", reason), "B": ("send", None)}
    with owing.begin() as connection:
        statuses = dict(connection.execute(select(outbox.c.customer_id, outbox.c.status)).all())
    assert statuses == {"A": OutboxStatus.CANCELLED, "B": OutboxStatus.PLANNED}


def test_a_pause_ends_on_its_date_or_when_resumed(owing: Ledger) -> None:
    _act(owing, Action(ActionKind.PAUSE, "A", until=DAY + timedelta(days=1)))
    assert _plan(owing)["A"] == ("skip", "paused_by_collector")
    assert _plan(owing, DAY + timedelta(days=1))["A"] == ("skip", "paused_by_collector")
    assert _plan(owing, DAY + timedelta(days=2))["A"][1] != "paused_by_collector"
    _act(owing, Action(ActionKind.RESUME, "A"))
    assert _plan(owing)["A"][1] != "paused_by_collector"


def test_every_action_is_audited_with_who_and_when(owing: Ledger) -> None:
    _act(owing, Action(ActionKind.CALL, "B", outcome=CallOutcome.NO_ANSWER, note="tried the office line"))
    _act(owing, Action(ActionKind.PROMISE, "B", until=DAY + timedelta(days=7), amount_minor=30000, currency="USD"))
    with owing.begin() as connection:
        rows = connection.execute(select(collector_actions).order_by(collector_actions.c.action_id)).mappings().all()
    assert [(r["kind"], r["actor"], r["customer_id"], r["business_date"]) for r in rows] == [
        ("call", "cora", "B", DAY),
        ("promise", "cora", "B", DAY),
    ]
    assert rows[0]["outcome"] == "no_answer"
    assert "tried the office line" in rows[0]["note"]
    assert rows[1]["record_id"] == f"dashboard:{rows[1]['action_id']}"
    assert all(r["acted_at"] is not None for r in rows)


def test_a_viewer_cannot_act_and_nothing_is_written(owing: Ledger) -> None:
    with pytest.raises(NotAllowed):
        _act(owing, Action(ActionKind.PAUSE, "A", until=DAY), User(2, "vic", Role.VIEWER))
    with owing.begin() as connection:
        assert connection.execute(select(collector_actions.c.action_id)).all() == []


@pytest.mark.parametrize(
    "action",
    [
        Action(ActionKind.PAUSE, "A"),
        Action(ActionKind.PAUSE, "A", until=DAY - timedelta(days=1)),
        Action(ActionKind.PROMISE, "A", until=DAY + timedelta(days=400)),
        Action(ActionKind.DISPUTE, "A", invoice_id="B-1"),
        Action(ActionKind.CALL, "A"),
        Action(ActionKind.PAUSE, "nobody", until=DAY),
    ],
)
def test_an_impossible_action_is_refused_and_writes_nothing(owing: Ledger, action: Action) -> None:
    with pytest.raises(ActionProblem):
        _act(owing, action)
    with owing.begin() as connection:
        assert connection.execute(select(collector_actions.c.action_id)).all() == []
