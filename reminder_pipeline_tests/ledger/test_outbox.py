"""The reminders domain in the ledger, on SQLite and PostgreSQL: at most once, cancelled when paid,
revived when planned again, audited, and read back for planning without the whole outbox."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Connection, func, select

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.planning.plan import OUTBOX_SCHEMA, Plan, PlanInputs, plan_day
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.bulk import fetch, insert, schema_of
from reminder_pipeline.ledger.outbox import (
    expire_unsent,
    latest_decisions,
    outbox_by_status,
    record_decisions,
    set_statuses,
    write_plan,
)
from reminder_pipeline.ledger.planning import plan_inputs
from reminder_pipeline.ledger.schema import customer_segments, outbox, reminder_decisions
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
    ingest_file(ledger, customers, Entity.CUSTOMERS)
    ingest_file(ledger, invoices, Entity.INVOICES)
    return ledger


def _plan(ledger: Ledger, day: date, now: datetime, run_id: str = "run-1") -> tuple[Plan, object]:
    with ledger.begin_write("outbox") as connection:
        expire_unsent(connection, now)
        inputs = plan_inputs(connection, day, now, business_tz="UTC", horizon_days=8)
        plan = plan_day(inputs, POLICY)
        record_decisions(connection, plan.decisions, run_id=run_id, policy_version=POLICY.version)
        written = write_plan(connection, plan, day, policy_version=POLICY.version)
    return plan, written


def _segment(connection: Connection, day: date, bands: dict[str, str]) -> None:
    """The day's segments with these risk bands (which choose the customers' ladders)."""
    rows = [
        {
            "business_date": day,
            "customer_id": customer,
            "segment": f"{band}/1-7/small/email",
            "risk_band": band,
            "aging_bucket": "1-7",
            "value_tier": "small",
            "channel": "email",
            "p_late": 0.5,
            "open_invoices": 1,
            "open_balance_minor": 100,
            "currency": "EUR",
            "oldest_due_date": day,
            "max_days_overdue": 0,
            "policy_version": POLICY.version,
        }
        for customer, band in bands.items()
    ]
    insert(connection, customer_segments, pl.DataFrame(rows))


def _outbox(ledger: Ledger) -> pl.DataFrame:
    columns = [c.name for c in outbox.columns]
    with ledger.begin() as connection:
        return fetch(connection, select(outbox).order_by(outbox.c.outbox_id), schema_of(outbox, columns))


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
    assert set(rows["dedupe_key"]) == {
        "1:A|3:A-1|15:second_reminder|5:email",
        "1:B|3:B-1|13:firm_reminder|3:sms",
        "1:C|3:C-1|8:courtesy|5:email",
    }
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


def test_an_overpayment_that_covers_the_rest_stops_the_reminders(filled: Ledger, tmp_path: Path) -> None:
    """A paid 300 EUR on its 100 EUR invoice A-1: A-1 is settled and the 200 EUR credit covers A-2's 50 EUR."""
    _plan(filled, DAY, _at(DAY))
    payment = write_csv(
        tmp_path / "payments.csv",
        f"payment_id,invoice_id,amount,currency,paid_date\nP-9,A-1,300.00,EUR,{DAY.isoformat()}",
    )
    ingest_file(filled, payment, Entity.PAYMENTS)
    plan, _ = _plan(filled, DAY, _at(DAY, 7), run_id="run-2")
    assert plan.decisions.filter(pl.col("customer_id") == "A")["reason"].item() == "covered_by_credit"
    assert _outbox(filled).filter(pl.col("customer_id") == "A")["status"].to_list() == ["cancelled"]


def test_an_unsent_reminder_expires_with_its_window_and_is_revived_when_planned_again(filled: Ledger) -> None:
    _plan(filled, DAY, _at(DAY))
    with filled.begin() as connection:
        assert expire_unsent(connection, _at(DAY + timedelta(days=1), 0)) == 3
        assert outbox_by_status(connection) == {"expired": 3}
    reasons = _outbox(filled)["status_reason"].to_list()
    assert reasons == ["the send window ended before it was sent"] * 3, "nothing lost: every end has its reason"
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


def test_a_customer_who_paid_before_the_day_has_its_unsent_reminders_and_tasks_cancelled(
    filled: Ledger, tmp_path: Path
) -> None:
    late = DAY + timedelta(days=40)
    _plan(filled, late, _at(late))
    tasks = _outbox(filled).filter(pl.col("channel") == "collector")
    assert set(tasks["customer_id"]) == {"A", "B"}, "A and B are past the hand-off"
    evening = datetime.combine(late, time(23, 30), tzinfo=UTC)
    with filled.begin() as connection:
        expire_unsent(connection, evening)
    payment = write_csv(
        tmp_path / "payments.csv",
        f"payment_id,invoice_id,amount,currency,paid_date\nP-1,B-1,300.00,USD,{late.isoformat()}",
    )
    ingest_file(filled, payment, Entity.PAYMENTS)
    following = late + timedelta(days=1)
    plan, written = _plan(filled, following, _at(following))
    assert "B" not in set(plan.decisions["customer_id"]), "nothing of B's was open when the day began"
    b_rows = _outbox(filled).filter(pl.col("customer_id") == "B")
    assert set(b_rows["status"]) == {"cancelled"}
    assert all("nothing is open any more" in reason for reason in b_rows["status_reason"])
    assert written.cancelled >= 1  # type: ignore[attr-defined]
    assert set(_outbox(filled).filter(pl.col("customer_id") == "A")["status"]) == {"task_open"}


def test_an_invoice_billed_after_a_hand_off_is_dunned_without_the_collectors_invoices(
    filled: Ledger, tmp_path: Path
) -> None:
    """A's A-1 and A-2 go to a collector; A-1, the episode, is paid, and A-3 is billed: the next day's plan reads
    the collector's invoices from the task (A-2 too, though its episode is paid) and duns A-3 alone."""
    late = DAY + timedelta(days=40)
    _plan(filled, late, _at(late))
    task = _outbox(filled).filter(pl.col("customer_id") == "A").row(0, named=True)
    assert (task["channel"], task["status"], task["invoice_ids"]) == ("collector", "task_open", '["A-1","A-2"]')
    following = late + timedelta(days=1)
    payment = write_csv(
        tmp_path / "payments.csv",
        f"payment_id,invoice_id,amount,currency,paid_date\nP-1,A-1,100.00,EUR,{late.isoformat()}",
    )
    billed = write_csv(
        tmp_path / "invoices.csv",
        "invoice_id,customer_id,issue_date,due_date,amount,currency\n"
        f"A-3,A,{late.isoformat()},{(following + timedelta(days=2)).isoformat()},70.00,EUR",
    )
    ingest_file(filled, payment, Entity.PAYMENTS)
    ingest_file(filled, billed, Entity.INVOICES)
    with filled.begin() as connection:
        handed = plan_inputs(connection, following, _at(following), business_tz="UTC", horizon_days=8).handed_over
    assert handed is not None
    assert sorted(handed.filter(pl.col("customer_id") == "A")["invoice_id"]) == ["A-1", "A-2"]
    plan, _ = _plan(filled, following, _at(following))
    row = plan.decisions.filter(pl.col("customer_id") == "A").row(0, named=True)
    assert (row["decision"], row["step"], row["episode_id"]) == ("send", "courtesy", "A-3")
    assert (row["invoice_ids"], row["amount_minor"]) == (["A-3"], 7_000)
    assert _outbox(filled).filter(pl.col("outbox_id") == task["outbox_id"])["status"].item() == "task_open"


def test_windows_are_compared_in_utc_whatever_the_sessions_time_zone(filled: Ledger) -> None:
    _plan(filled, DAY, _at(DAY))
    with filled.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL TIME ZONE 'America/New_York'")
        window_end = connection.execute(select(func.min(outbox.c.window_end))).scalar_one()
        ends = window_end if window_end.tzinfo else window_end.replace(tzinfo=UTC)
        assert expire_unsent(connection, ends - timedelta(hours=2)) == 0
        assert expire_unsent(connection, ends) >= 1


def _mark_delivered(ledger: Ledger, day: date, share_failing: float) -> None:
    """Deliver the day's planned messages, except about ``share_failing`` of them (left to expire)."""
    with ledger.begin() as connection:
        planned = connection.execute(
            select(outbox.c.outbox_id).where(outbox.c.status == "planned", outbox.c.business_date == day)
        ).all()
        ids = [r[0] for r in planned if (r[0] * 7919 % 100) >= share_failing * 100]
        set_statuses(connection, pl.DataFrame({"outbox_id": ids, "status": "sent", "status_reason": None}))


@pytest.mark.parametrize("share_failing", [0.0, 0.4])
def test_planning_reads_only_what_matters_and_decides_as_with_the_whole_outbox(
    filled: Ledger, tmp_path: Path, share_failing: float
) -> None:
    """Sixty days of plans (some replanned in the evening, some deliveries failing, a promise to pay broken
    on the way, a payment): each morning, the decisions from the rows read for planning are those the
    whole outbox gives."""
    promise = write_csv(
        tmp_path / "promises.csv",
        f"promise_id,customer_id,promised_date,made_on,status\nPR-1,A,{(DAY + timedelta(days=5)).isoformat()},"
        f"{DAY.isoformat()},pending",
    )
    with filled.begin() as connection:
        rows = pl.read_csv(promise, try_parse_dates=True).with_columns(pl.lit("test").alias("source"))
        insert(connection, schema.promises_to_pay, rows)
    payment = write_csv(
        tmp_path / "payments.csv",
        f"payment_id,invoice_id,amount,currency,paid_date\nP-1,C-1,80.00,EUR,{(DAY + timedelta(days=20)).isoformat()}",
    )
    compared = 0
    bands = random.Random(share_failing).choices(["low", "medium", "high"], k=60 * 3)
    for offset in range(60):
        day = DAY + timedelta(days=offset)
        if offset == 20:
            ingest_file(filled, payment, Entity.PAYMENTS)
        with filled.begin() as connection:
            _segment(connection, day, dict(zip("ABC", bands[offset * 3 : offset * 3 + 3], strict=True)))
            expire_unsent(connection, _at(day))
            inputs = plan_inputs(connection, day, _at(day), business_tz="UTC", horizon_days=8)
        everything = (
            _outbox(filled)
            .select(
                [
                    pl.col(c).dt.replace_time_zone(None).dt.replace_time_zone("UTC") if c == "window_end" else pl.col(c)
                    for c in OUTBOX_SCHEMA
                ]
            )
            .cast(OUTBOX_SCHEMA)
        )  # type: ignore[arg-type]
        full = PlanInputs(**{**inputs.__dict__, "outbox": everything})
        read, whole = plan_day(inputs, POLICY).decisions, plan_day(full, POLICY).decisions
        assert read.equals(whole), (day, read.join(whole, on="customer_id").rows())
        compared += inputs.outbox.height < everything.height
        _plan(filled, day, _at(day))
        if offset % 9 == 4:
            _plan(filled, day, _at(day, 20), run_id=f"evening-{offset}")
        _mark_delivered(filled, day, share_failing)
    assert compared > 30, "most days read less than the whole outbox"
    reached = _outbox(filled).filter(pl.col("status").is_in(["sent", "task_open"]))
    assert reached.select("ladder").n_unique() > 1, "the risk bands moved customers between ladders"
    assert reached.group_by("customer_id", "episode_id", "step").len()["len"].max() == 1, "each step once"
    sent = reached.filter(pl.col("channel") != "collector")
    assert sent.group_by("customer_id", "send_on").len()["len"].max() == 1
    with filled.begin() as connection:
        escalated = connection.execute(
            select(func.count()).select_from(reminder_decisions).where(reminder_decisions.c.escalated)
        ).scalar_one()
    assert escalated >= 1, "the broken promise escalated"
