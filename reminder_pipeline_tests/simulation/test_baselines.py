"""The arms the pipeline is measured against: the statements of account the like-for-like arms send (on the
billing cycle day, to whoever owes, by email else an SMS summary, none in an outage), the fixed ladder alone
unchanged by them, and the like-for-like verdict."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from reminder_pipeline.core.policy.config import StatementSms
from reminder_pipeline.core.statements.cycles import cycle_date
from reminder_pipeline.simulation.baselines import Arm, Losses, Sent, run_baselines
from reminder_pipeline.simulation.behaviour import Dice, ResponseModel
from reminder_pipeline.simulation.collection import like_for_like
from reminder_pipeline.simulation.world import World, build_world

LOSSES = Losses(bounce_rate=0.02, undelivered_rate=0.02)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(300, 40, 7)


def _cycle_day(world: World) -> dict[str, int]:
    return {c: int(d) for c, d in world.customers.select("customer_id", "billing_cycle_day").iter_rows()}


def _email_usable(world: World) -> dict[str, bool]:
    rows = world.customers.select("customer_id", "email", "email_opt_out").iter_rows()
    return {c: bool(email) and not opted_out for c, email, opted_out in rows}


def _arms(world: World, sms: StatementSms, down: tuple[date, ...] = ()) -> dict[str, Arm]:
    return run_baselines(world, ResponseModel(), Dice(world.seed), LOSSES, sms, down)


def _statements(world: World, sms: StatementSms, down: tuple[date, ...] = ()) -> list[Sent]:
    return _arms(world, sms, down)["statements_only"].messages


def test_statements_go_on_the_cycle_day_or_the_monday_after_to_customers_who_owe(world: World) -> None:
    sent = _statements(world, StatementSms.SUMMARY)
    cycle, email = _cycle_day(world), _email_usable(world)
    issued = dict(world.invoices.select("invoice_id", "issue_date").iter_rows())
    customer = dict(world.invoices.select("invoice_id", "customer_id").iter_rows())
    assert len(sent) > 100
    for message in sent:
        day = message.at.date()
        due = cycle_date(cycle[message.customer_id], day.year, day.month)
        if due > day:
            previous = day.replace(day=1) - timedelta(days=1)
            due = cycle_date(cycle[message.customer_id], previous.year, previous.month)
        assert message.statement
        assert day.weekday() < 5
        assert due <= day <= due + timedelta(days=2), (message, due)
        assert (day - due).days == 0 or due.weekday() >= 5, "only a weekend cycle day waits"
        assert message.invoice_ids, "only to a customer who owes"
        assert all(issued[i] <= day for i in message.invoice_ids), "only invoices issued by then"
        assert all(customer[i] == message.customer_id for i in message.invoice_ids)
        assert message.channel == ("email" if email[message.customer_id] else "sms")
    assert max(Counter((m.customer_id, m.at.month) for m in sent).values()) == 1, "one statement a cycle"
    assert any(m.channel == "sms" for m in sent), "SMS-only customers get a summary"


def test_no_sms_statement_when_the_policy_sends_none(world: World) -> None:
    sent = _statements(world, StatementSms.NONE)
    assert sent
    assert {m.channel for m in sent} == {"email"}


def test_nothing_is_sent_for_a_cycle_day_the_outage_took(world: World) -> None:
    everything = _statements(world, StatementSms.SUMMARY)
    outage = (date(2026, 3, 16), date(2026, 3, 17), date(2026, 3, 18))
    during = [m for m in everything if m.at.date() in outage]
    assert during, "statements fall due in those days"
    kept = _statements(world, StatementSms.SUMMARY, outage)
    assert not [m for m in kept if m.at.date() in outage]
    assert len(kept) == len(everything) - len(during)


def test_the_fixed_ladder_alone_sends_no_statements_and_with_them_sends_both(world: World) -> None:
    arms = _arms(world, StatementSms.SUMMARY)
    alone, both = arms["fixed_ladder"], arms["fixed_ladder_with_statements"]
    assert alone.messages
    assert not [m for m in alone.messages if m.statement or len(m.invoice_ids) != 1]
    statements = [m for m in both.messages if m.statement]
    assert statements
    assert len(both.messages) > len(statements), "the ladder's steps too"
    paid = both.accounts.paid_frame()["amount_minor"].sum()
    assert paid > alone.accounts.paid_frame()["amount_minor"].sum(), "the statements collect more"


def _figures(within: float, usd: float, reminders: int) -> dict[str, float | int]:
    return {"dso": 30.0, "collected_within_30_days": within, "collected_usd": usd, "reminders": reminders}


@pytest.mark.parametrize(
    ("pipeline", "wins"),
    [
        (_figures(0.9000, 1000.0, 90), True),
        (_figures(0.9000, 1000.0, 100), False),
        (_figures(0.8999, 1000.0, 90), False),
        (_figures(0.9000, 999.0, 90), False),
    ],
)
def test_the_pipeline_wins_like_for_like_only_collecting_as_much_with_fewer_reminders(
    pipeline: dict[str, float | int], wins: bool
) -> None:
    compared = like_for_like(pipeline, _figures(0.9000, 1000.0, 100))
    assert compared["pipeline_wins"] is wins
    assert compared["ladder_reminders"] == 100
    assert compared["fewer_reminders_percent"] == round(100 * (100 - pipeline["reminders"]) / 100, 1)
