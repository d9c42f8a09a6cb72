"""A business day's reminders through the service the assets call, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from reminder_pipeline.config_files import load_policy, load_templates
from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.core.rendering.links import LinkSigner
from reminder_pipeline.ledger.schema import outbox, reminder_messages
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.reminders.service import plan_and_record_day, render_day
from reminder_pipeline_tests.ingestion.helpers import ingest_file, write_csv

DAY = date(2026, 3, 10)  # a Tuesday
MORNING = datetime.combine(DAY, time(5), tzinfo=UTC)
POLICY = load_policy()


@pytest.fixture
def owing(ledger: Ledger, tmp_path: Path) -> Ledger:
    customers = write_csv(
        tmp_path / "customers.csv",
        "customer_id,name,email,phone,country,time_zone,locale,preferred_channel,sms_consent\n"
        "A,Anna Schmidt,anna@example.com,+4915112345678,DE,Europe/Berlin,de_DE,email,false\n"
        "B,Bob Jones,bob@example.com,+12025550143,US,America/New_York,en_US,sms,true",
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


def _statuses(ledger: Ledger) -> dict[str, str]:
    with ledger.begin() as connection:
        return {r.customer_id: r.status for r in connection.execute(select(outbox.c.customer_id, outbox.c.status))}


def _day(ledger: Ledger, at: datetime, run_id: str = "run-1") -> tuple[object, object]:
    planned = plan_and_record_day(ledger, POLICY, DAY, at, run_id=run_id, business_tz="UTC")
    written = render_day(ledger, POLICY, load_templates(), LinkSigner("a-service-test-secret"), DAY, at)
    return planned, written


def test_a_day_is_planned_and_its_messages_written(owing: Ledger) -> None:
    planned, written = _day(owing, MORNING)
    assert planned.summary()["send"] == 2  # type: ignore[attr-defined]
    assert written.summary() == {  # type: ignore[attr-defined]
        "day": DAY.isoformat(),
        "rendered": 2,
        "held": 0,
        "cancelled": 0,
        "email": 1,
        "sms": 1,
    }
    assert _statuses(owing) == {"A": OutboxStatus.RENDERED, "B": OutboxStatus.RENDERED}
    with owing.begin() as connection:
        amounts = dict(connection.execute(select(reminder_messages.c.recipient, reminder_messages.c.amount_text)).all())
    assert set(amounts) == {"anna@example.com", "+12025550143"}


def test_running_the_day_again_changes_nothing(owing: Ledger) -> None:
    _day(owing, MORNING)
    planned, written = _day(owing, MORNING + timedelta(hours=1), run_id="run-2")
    assert planned.summary()["outbox_added"] == 0  # type: ignore[attr-defined]
    assert planned.summary()["outbox_unchanged"] == 2  # type: ignore[attr-defined]
    assert written.summary()["rendered"] == 2  # type: ignore[attr-defined]
    with owing.begin() as connection:
        assert len(connection.execute(select(reminder_messages.c.outbox_id)).all()) == 2


def test_a_payment_between_planning_and_rendering_cancels_the_message(owing: Ledger, tmp_path: Path) -> None:
    plan_and_record_day(owing, POLICY, DAY, MORNING, run_id="run-1", business_tz="UTC")
    ingest_file(
        owing,
        write_csv(
            tmp_path / "payments.csv", f"payment_id,invoice_id,amount,currency,paid_date\nP-1,A-1,100.00,EUR,{DAY}"
        ),
        Entity.PAYMENTS,
    )
    written = render_day(owing, POLICY, load_templates(), LinkSigner("a-service-test-secret"), DAY, MORNING)
    assert written.cancelled == 1
    assert _statuses(owing) == {"A": OutboxStatus.CANCELLED, "B": OutboxStatus.RENDERED}
