"""The statement run beside the daily run, on a real ledger: the daily plan run again after it keeps the
statements and the courtesy note they folded in as they are, and the days after count them as contacts."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import polars as pl
from sqlalchemy import select

from reminder_pipeline.collections.actions import Action, ActionKind, record_action
from reminder_pipeline.collections.users import Role, User
from reminder_pipeline.config_files import load_policy, load_templates
from reminder_pipeline.core.outbox import STATEMENT_LADDER, OutboxStatus
from reminder_pipeline.core.planning.reasons import SkipReason
from reminder_pipeline.core.rendering.links import LinkSigner
from reminder_pipeline.ledger.outbox import latest_decisions
from reminder_pipeline.ledger.schema import outbox
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.reminders.service import plan_and_record_day
from reminder_pipeline.statements.service import statements_day
from reminder_pipeline_tests.defs.runs import TEST_LINK_SECRET
from reminder_pipeline_tests.statements.world import CYCLE, cycle_morning


def _outbox(ledger: Ledger) -> pl.DataFrame:
    with ledger.begin() as connection:
        rows = connection.execute(
            select(outbox.c.customer_id, outbox.c.ladder, outbox.c.step, outbox.c.status, outbox.c.send_on)
        ).all()
    return pl.DataFrame([r._asdict() for r in rows]).sort("customer_id", "ladder", "step")


def _statements(ledger: Ledger, at: datetime) -> dict[str, object]:
    policy, templates, signer = load_policy(), load_templates(), LinkSigner(TEST_LINK_SECRET)
    return statements_day(ledger, policy, templates, signer, CYCLE, at, business_tz="UTC").summary()


def test_the_daily_plan_run_again_keeps_the_statements_and_the_folded_courtesy_note(
    ledger: Ledger, tmp_path: Path
) -> None:
    cycle_morning(ledger, tmp_path)
    seven = datetime.combine(CYCLE, time(7), tzinfo=UTC)
    first = _statements(ledger, seven)
    assert (first["planned"], first["courtesy_folded"], first["later_day"]) == (6, 1, 1)
    assert first["skipped"] == {"opted_out": 1}
    before = _outbox(ledger)
    plan_and_record_day(ledger, load_policy(), CYCLE, seven, run_id="again", business_tz="UTC")
    assert _outbox(ledger).equals(before), "the courtesy note is not revived, no statement is replaced"
    with ledger.begin() as connection:
        decided = {r["customer_id"]: r["reason"] for r in latest_decisions(connection, CYCLE).iter_rows(named=True)}
    assert decided["C5"] == SkipReason.NO_STEP_DUE.value, "the statement stands for the courtesy step"
    again = _statements(ledger, seven)
    assert (again["outbox_added"], again["outbox_unchanged"], again["courtesy_folded"]) == (0, 6, 0)
    assert _outbox(ledger).equals(before)


def test_the_next_days_plans_count_a_statement_as_a_contact(ledger: Ledger, tmp_path: Path) -> None:
    cycle_morning(ledger, tmp_path)
    _statements(ledger, datetime.combine(CYCLE, time(7), tzinfo=UTC))
    policy = load_policy()
    for offset in range(1, 5):
        day = CYCLE + timedelta(days=offset)
        plan_and_record_day(
            ledger, policy, day, datetime.combine(day, time(5), tzinfo=UTC), run_id=f"d{offset}", business_tz="UTC"
        )
    rows = _outbox(ledger)
    live = rows.filter(~pl.col("status").is_in([OutboxStatus.CANCELLED.value, OutboxStatus.EXPIRED.value]))
    per_day = live.group_by("customer_id", "send_on").len()
    assert per_day["len"].max() == 1, "never two messages to a customer on one day"
    c1 = live.filter(pl.col("customer_id") == "C1").sort("send_on")
    assert c1.filter(pl.col("ladder") == STATEMENT_LADDER)["send_on"].to_list() == [CYCLE + timedelta(days=4)]


def test_a_customer_a_collector_paused_gets_no_statement(ledger: Ledger, tmp_path: Path) -> None:
    cycle_morning(ledger, tmp_path)
    seven = datetime.combine(CYCLE, time(7), tzinfo=UTC)
    collector = User(1, "cora", Role.COLLECTOR)
    record_action(ledger, Action(ActionKind.PAUSE, "C1", until=CYCLE + timedelta(days=5)), collector, seven, CYCLE)
    summary = _statements(ledger, seven)
    assert summary["skipped"] == {"opted_out": 1, "paused_by_collector": 1}
    assert not _outbox(ledger).filter((pl.col("customer_id") == "C1") & (pl.col("ladder") == STATEMENT_LADDER)).height
