"""The reminders domain in the ledger, on SQLite and PostgreSQL: at most once, cancelled when paid,
revived when planned again, audited, and read back for planning without the whole outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select

from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.planning.plan import OUTBOX_SCHEMA, Plan, PlanInputs, plan_day
from reminder_pipeline.core.policy.config import load_policy
from reminder_pipeline.ledger.reminders import (
    expire_unsent,
    latest_decisions,
    outbox_by_status,
    plan_inputs,
    record_decisions,
    set_statuses,
    write_plan,
)
from reminder_pipeline.ledger.reminders_schema import outbox, reminder_decisions
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline_tests.ingestion.helpers import ingest_file, write_csv

DAY = date(2026, 3, 10)
POLICY = load_policy()


def _at(day: date, hour: int = 5) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


@pytest.fixture
def filled(ledger: Ledger, tmp_path: Path) -> Ledger:
    customers = write_csv(
        tmp_path / "customers.csv",
        """
customer_id,name,email,phone,country,time_zone,locale,preferred_channel,sms_consent
A,Anna Schmidt,anna@example.com,+4915112345678,DE,Europe/Berlin,de_DE,email,false
B,Bob Jones,,+12025550143,US,America/New_York,en_US,sms,true
C,Claire Dubois,claire@example.fr,,FR,Europe/Paris,fr_FR,email,false
""",
    )
    d = DAY.isoformat
    invoices = write_csv(
        tmp_path / "invoices.csv",
        f"""
invoice_id,customer_id,issue_date,due_date,amount,currency
A-1,A,2026-01-10,{(DAY - timedelta(days=8)).isoformat()},100.00,EUR
A-2,A,2026-02-01,{(DAY - timedelta(days=2)).isoformat()},50.00,EUR
B-1,B,2026-01-01,{(DAY - timedelta(days=15)).isoformat()},300.00,USD
C-1,C,2026-02-20,{(DAY + timedelta(days=3)).isoformat()},80.00,EUR
""",
    )
    assert d
    ingest_file(ledger, customers, Entity.CUSTOMERS)
    ingest_file(ledger, invoices, Entity.INVOICES)
    return ledger


def _plan(ledger: Ledger, day: date, now: datetime, run_id: str = "run-1") -> tuple[Plan, object]:
    with ledger.begin_write("outbox") as connection:
        expire_unsent(connection, now)
        inputs, _ = plan_inputs(connection, day, now, business_tz="UTC", horizon_days=8)
        plan = plan_day(inputs, POLICY, "UTC")
        record_decisions(connection, plan.decisions, run_id=run_id, policy_version=POLICY.version)
        written = write_plan(connection, plan, day, policy_version=POLICY.version)
    return plan, written


def _outbox(ledger: Ledger) -> pl.DataFrame:
    with ledger.begin() as connection:
        rows = connection.execute(select(outbox).order_by(outbox.c.outbox_id)).all()
    return pl.DataFrame([dict(r._mapping) for r in rows], infer_schema_length=None)


def test_a_day_planned_twice_adds_nothing_the_second_time(filled: Ledger) -> None:
    plan, first = _plan(filled, DAY, _at(DAY))
    decided = {r["customer_id"]: (r["decision"], r["step"], r["channel"]) for r in plan.decisions.iter_rows(named=True)}
    assert decided == {
        "A": ("send", "second_reminder", "email"),
        "B": ("send", "firm_reminder", "sms"),
        "C": ("send", "courtesy", "email"),
    }
    _, second = _plan(filled, DAY, _at(DAY, 6), run_id="run-2")
    assert (first.inserted, first.unchanged) == (3, 0)  # type: ignore[attr-defined]
    assert (second.inserted, second.unchanged, second.cancelled) == (0, 3, 0)  # type: ignore[attr-defined]
    rows = _outbox(filled)
    assert rows.height == 3
    assert set(rows["dedupe_key"]) == {"A|A-1|second_reminder|email", "B|B-1|firm_reminder|sms", "C|C-1|courtesy|email"}
    assert rows.filter(pl.col("customer_id") == "A")["invoice_ids"].item() == '["A-1","A-2"]'
    assert rows.filter(pl.col("customer_id") == "A")["amount_minor"].item() == 15_000
    with filled.begin() as connection:
        audited = connection.execute(select(func.count()).select_from(reminder_decisions)).scalar_one()
        latest = latest_decisions(connection, DAY)
    assert audited == 6, "every run's decisions stay in the audit"
    assert latest.height == 3


def test_a_payment_before_the_send_cancels_the_unsent_reminder(filled: Ledger, tmp_path: Path) -> None:
    _plan(filled, DAY, _at(DAY))
    payment = write_csv(
        tmp_path / "payments.csv",
        f"payment_id,invoice_id,amount,currency,paid_date\nP-1,B-1,300.00,USD,{DAY.isoformat()}",
    )
    ingest_file(filled, payment, Entity.PAYMENTS)
    plan, written = _plan(filled, DAY, _at(DAY, 7), run_id="run-2")
    assert plan.decisions.filter(pl.col("customer_id") == "B")["reason"].item() == "paid"
    assert written.cancelled == 1  # type: ignore[attr-defined]
    row = _outbox(filled).filter(pl.col("customer_id") == "B").row(0, named=True)
    assert row["status"] == "cancelled"
    assert "paid" in row["status_reason"]


def test_an_unsent_reminder_expires_with_its_window_and_is_revived_when_planned_again(filled: Ledger) -> None:
    _plan(filled, DAY, _at(DAY))
    with filled.begin() as connection:
        assert expire_unsent(connection, _at(DAY + timedelta(days=1), 0)) == 3
        assert outbox_by_status(connection) == {"expired": 3}
    _, written = _plan(filled, DAY + timedelta(days=1), _at(DAY + timedelta(days=1)))
    rows = _outbox(filled)
    assert rows.height == 3, "the same reminders, not new copies"
    assert written.revived == 3  # type: ignore[attr-defined]
    assert set(rows["status"]) == {"planned"}
    assert set(rows["business_date"]) == {DAY + timedelta(days=1)}


def test_a_row_already_handed_on_is_never_moved_back(filled: Ledger) -> None:
    _plan(filled, DAY, _at(DAY))
    ids = _outbox(filled)["outbox_id"]
    with filled.begin() as connection:
        set_statuses(connection, pl.DataFrame({"outbox_id": ids, "status": "sending", "status_reason": None}))
        moved = set_statuses(
            connection, pl.DataFrame({"outbox_id": ids, "status": "cancelled", "status_reason": "late"})
        )
        assert expire_unsent(connection, _at(DAY + timedelta(days=2))) == 0
    assert moved == 0
    assert set(_outbox(filled)["status"]) == {"sending"}


def test_planning_reads_only_what_matters_and_decides_as_with_the_whole_outbox(filled: Ledger) -> None:
    """Days of plans, with every reminder delivered, then a day decided from the outbox read for planning
    and from the whole outbox: the same decisions."""
    for offset in range(0, 40):
        day = DAY + timedelta(days=offset)
        _plan(filled, day, _at(day))
        with filled.begin() as connection:
            planned = connection.execute(select(outbox.c.outbox_id).where(outbox.c.status == "planned")).all()
            set_statuses(
                connection,
                pl.DataFrame({"outbox_id": [r[0] for r in planned], "status": "sent", "status_reason": None}),
            )
    day = DAY + timedelta(days=40)
    with filled.begin() as connection:
        inputs, _ = plan_inputs(connection, day, _at(day), business_tz="UTC", horizon_days=8)
    everything = _outbox(filled).select(
        [
            pl.col(c).cast(t) if c != "window_end" else pl.col(c).dt.replace_time_zone(None).dt.replace_time_zone("UTC")
            for c, t in OUTBOX_SCHEMA.items()
        ]
    )
    assert inputs.outbox.height < everything.height, "old contacts of finished steps are not read"
    full = PlanInputs(**{**inputs.__dict__, "outbox": everything})
    assert_same = plan_day(inputs, POLICY, "UTC").decisions.equals(plan_day(full, POLICY, "UTC").decisions)
    assert assert_same
    sent = _outbox(filled).filter(pl.col("status") == "sent")
    assert sent.group_by("customer_id", "send_on").len()["len"].max() == 1
