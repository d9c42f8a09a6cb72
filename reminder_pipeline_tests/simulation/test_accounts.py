"""One arm's customers: unreminded they pay as the generator drew it; a reminder only ever brings a payment
forward, never before the customer can act, and never for a paid or disputed invoice."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import polars as pl
import pytest

from reminder_pipeline.simulation.accounts import Accounts, Reached
from reminder_pipeline.simulation.behaviour import Dice, ReplyKind, ResponseModel
from reminder_pipeline.simulation.clock import customer_slot_at, next_customer_slot
from reminder_pipeline.simulation.world import World, build_world

STRONG = ResponseModel(sms_weight=100.0, email_weight=100.0, promise_share=0.0, stop_rate=0.0)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(300, 30, seed=5)


def _end(world: World) -> datetime:
    return datetime.combine(world.last_day, time(23, 59), tzinfo=UTC)


def test_unreminded_invoices_are_paid_as_the_generator_drew_them(world: World) -> None:
    accounts = Accounts(world, ResponseModel(), Dice(1))
    made = pl.DataFrame(
        {
            "invoice_id": [p.invoice_id for p in accounts.payments_until(_end(world))],
            "day": [p.paid_at.date() for p in accounts.made],
        }
    )
    drawn = world.installments.filter(
        (pl.col("paid_date") >= world.first_day) & (pl.col("paid_date") <= world.last_day)
    )
    assert made.height == drawn.height
    assert sorted(made["invoice_id"].to_list()) == sorted(drawn["invoice_id"].to_list())
    assert not any(p.prompted for p in accounts.made)


def _late(accounts: Accounts, at: datetime) -> list[str]:
    """Open invoices past due whose next payment is planned well after ``at``."""
    found = []
    for invoice in accounts.invoices.values():
        planned = sorted(when for when, _, _ in invoice.planned.values())
        if planned and invoice.due_day < at.date() and planned[0] > at + timedelta(days=10) and not invoice.dispute_day:
            found.append(invoice.invoice_id)
    return found


def test_a_reminder_brings_the_next_payment_forward_but_not_before_the_customer_can_act(world: World) -> None:
    accounts = Accounts(world, STRONG, Dice(2))
    at = datetime.combine(world.first_day + timedelta(days=3), time(13), tzinfo=UTC)
    accounts.payments_until(at)
    chosen = _late(accounts, at)
    assert chosen, "the world has late payers"
    before = {i: min(w for w, _, _ in accounts.invoices[i].planned.values()) for i in chosen}
    for invoice_id in chosen:
        invoice = accounts.invoices[invoice_id]
        accounts.reach(Reached(invoice.customer_id, (invoice_id,), "sms", at, before_due=False))
    soonest = customer_slot_at(*next_customer_slot(at))
    for invoice_id in chosen:
        after = min(w for w, _, _ in accounts.invoices[invoice_id].planned.values())
        assert soonest <= after <= before[invoice_id]
    assert (
        sum(1 for i in chosen if min(w for w, _, _ in accounts.invoices[i].planned.values()) < before[i])
        > len(chosen) / 2
    )


def test_a_never_payer_is_turned_by_a_strong_reminder(world: World) -> None:
    accounts = Accounts(world, STRONG, Dice(3))
    at = datetime.combine(world.first_day + timedelta(days=1), time(13), tzinfo=UTC)
    never = [i for i in accounts.invoices.values() if not i.planned and i.due_day < at.date() and not i.dispute_day]
    assert never, "the world has never-payers"
    for invoice in never:
        accounts.reach(Reached(invoice.customer_id, (invoice.invoice_id,), "sms", at, before_due=False))
    paid = {p.invoice_id for p in accounts.payments_until(at + timedelta(days=5))}
    assert sum(1 for i in never if i.invoice_id in paid) >= 0.8 * len(never)
    assert all(p.prompted for p in accounts.made if p.invoice_id in {i.invoice_id for i in never})


def test_paid_and_disputed_invoices_do_not_answer(world: World) -> None:
    accounts = Accounts(world, STRONG, Dice(4))
    at = datetime.combine(world.last_day, time(13), tzinfo=UTC)
    accounts.payments_until(at)
    disputed = [i for i in accounts.invoices.values() if i.dispute_day is not None and i.dispute_day <= at.date()]
    for invoice in disputed:
        planned = dict(invoice.planned)
        assert accounts.reach(Reached(invoice.customer_id, (invoice.invoice_id,), "sms", at, False)) == []
        assert invoice.planned == planned
    paid = [i for i in world.invoices["invoice_id"].to_list() if not accounts.is_open(i)][:20]
    for invoice_id in paid:
        assert accounts.reach(Reached("C0000001", (invoice_id,), "email", at, False)) == []


def test_a_customer_about_to_dispute_disputes_when_reminded(world: World) -> None:
    accounts = Accounts(world, ResponseModel(stop_rate=0.0), Dice(5))
    at = datetime.combine(world.first_day, time(13), tzinfo=UTC)
    coming = [
        i
        for i in accounts.invoices.values()
        if i.dispute_day is not None and at.date() < i.dispute_day <= at.date() + timedelta(days=30)
    ]
    assert coming, "the world has disputes to come"
    invoice = coming[0]
    replies = accounts.reach(Reached(invoice.customer_id, (invoice.invoice_id,), "sms", at, False))
    assert [r.kind for r in replies] == [ReplyKind.DISPUTE]
    assert invoice.dispute_day == at.date()


def test_who_texts_stop_does_not_hang_on_the_seconds_a_delivery_run_took(world: World) -> None:
    """``accepted_at`` is simulated time plus the real seconds a run took: two runs of one seed differ in them.
    Whether a customer answers STOP must not (a simulation once differed in a STOP between two equal seeds)."""
    at = datetime.combine(world.first_day, time(13), tzinfo=UTC)
    customers = sorted({i.customer_id for i in Accounts(world, ResponseModel(), Dice(6)).invoices.values()})

    def stops(seconds: float) -> list[str]:
        accounts = Accounts(world, ResponseModel(stop_rate=0.2, promise_share=0.0), Dice(6))
        reached = at + timedelta(seconds=seconds)
        found = []
        for customer in customers:
            replies = accounts.reach(Reached(customer, (), "sms", reached, before_due=False))
            found += [customer for r in replies if r.kind is ReplyKind.STOP]
        return found

    first = stops(0.0)
    assert first, "a fifth of the customers text STOP"
    assert stops(3.7) == first
    assert stops(41.2) == first
