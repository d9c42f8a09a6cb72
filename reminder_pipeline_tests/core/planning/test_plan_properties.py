"""Promises 3, 4 and 5 hold whatever the customers, zones, ladders, risk changes, promises, replans,
failed deliveries and outages; and nothing goes to a paid, disputed or opted-out customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reminder_pipeline.core.planning.plan import PROMISE_SCHEMA
from reminder_pipeline.core.policy.config import Policy
from reminder_pipeline_tests.core.planning.properties import (
    COUNTRIES,
    DAYS,
    EXAMPLES,
    START,
    ZONES,
    an_invoice,
    check_promises,
    policies,
    reachable_customer,
    world_of,
)
from reminder_pipeline_tests.core.planning.simulation import World, morning


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n = draw(st.integers(1, 6))
    customers, invoices, promises, bands = [], [], [], {}
    for c in range(n):
        customer = f"C{c}"
        customers.append(
            {
                "customer_id": customer,
                "email": draw(st.sampled_from([f"c{c}@example.com", None])),
                "phone": draw(st.sampled_from(["+4915112345678", "+12025550143", "+61412345678", None])),
                "country": draw(st.sampled_from([*COUNTRIES, None])),
                "time_zone": draw(st.sampled_from(ZONES)),
                "locale": "en_GB",
                "preferred_channel": draw(st.sampled_from(["email", "sms", None])),
                "email_opt_out_at": draw(st.sampled_from([None, datetime(2026, 1, 1, tzinfo=UTC)])),
                "sms_opt_out_at": draw(st.sampled_from([None, datetime(2026, 1, 1, tzinfo=UTC)])),
                "sms_consent": draw(st.booleans()),
            }
        )
        # the risk band changes now and then, moving the customer between the two ladders
        changes = draw(st.lists(st.sampled_from(["low", "medium", "high"]), min_size=1, max_size=4))
        length = -(-DAYS // len(changes))
        bands[customer] = [band for band in changes for _ in range(length)]
        for i in range(draw(st.integers(1, 4))):
            issue = START + timedelta(days=draw(st.integers(-40, 20)))
            due = issue + timedelta(days=draw(st.sampled_from([7, 14, 30])))
            paid = draw(st.one_of(st.none(), st.integers(0, 60).map(lambda d, issue=issue: issue + timedelta(days=d))))
            disputed_from = draw(
                st.one_of(st.none(), st.integers(0, 30).map(lambda d, issue=issue: issue + timedelta(days=d)))
            )
            invoices.append(
                {
                    "invoice_id": f"{customer}-I{i}",
                    "customer_id": customer,
                    "issue_date": issue,
                    "due_date": due,
                    "currency": "EUR",
                    "amount_minor": draw(st.integers(100, 10_000)),
                    "paid_on": paid,
                    "disputed_from": disputed_from,
                    "disputed_until": None,
                }
            )
            if draw(st.integers(0, 4)) == 0:
                made = issue + timedelta(days=draw(st.integers(0, 30)))
                promises.append(
                    {
                        "customer_id": customer,
                        "invoice_id": draw(st.sampled_from([None, f"{customer}-I{i}"])),
                        "promised_date": made + timedelta(days=draw(st.integers(1, 14))),
                        "made_on": made,
                        "status": draw(st.sampled_from(["pending", "pending", "broken", "kept"])),
                    }
                )
    return world_of(
        customers,
        invoices,
        bands,
        promises=pl.DataFrame(promises, schema=PROMISE_SCHEMA),
        delivery_failure=draw(st.sampled_from([0.0, 0.0, 0.3])),
        seed=draw(st.integers(0, 1000)),
    )


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    world=worlds(),
    policy=policies(),
    outage=st.tuples(st.integers(0, 20), st.integers(0, 12)),
    replans=st.sets(st.integers(0, DAYS - 1), max_size=6),
    late_hour=st.sampled_from([9, 15, 22]),
    reruns=st.dictionaries(st.integers(2, DAYS - 1), st.integers(1, 2), max_size=4),
)
def test_daily_runs_with_replans_failures_and_an_outage_keep_every_promise(
    world: World, policy: Policy, outage: tuple[int, int], replans: set[int], late_hour: int, reruns: dict[int, int]
) -> None:
    """Besides the daily runs: some days planned again later that day, and some earlier days re-run
    as of their own morning (as a demo or simulation clock does) after later days already ran."""
    start_outage, length = outage
    days = [START + timedelta(days=n) for n in range(DAYS)]
    missed = set(days[start_outage : start_outage + length])
    for index, day in enumerate(days):
        if day in missed:
            continue
        if missed and day == max(missed) + timedelta(days=1):
            # the backfill of the missed days, run this morning before the day's own run
            backfill = min(missed)
            while backfill <= max(missed):
                world.run(backfill, policy, morning(day, 4))
                backfill += timedelta(days=1)
        world.run(day, policy, morning(day))
        if index in replans:
            world.run(day, policy, morning(day, late_hour))
        if index in reruns:
            earlier = day - timedelta(days=reruns[index])
            if earlier not in missed:
                world.run(earlier, policy, morning(earlier))
    check_promises(world, policy)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds(), policy=policies(), gap=st.integers(3, 20))
def test_after_an_outage_only_the_highest_step_due_goes_out(world: World, policy: Policy, gap: int) -> None:
    """Runs stop for ``gap`` days; on return the next message per episode is the highest step now due."""
    for n in range(3):
        world.run(START + timedelta(days=n), policy, morning(START + timedelta(days=n)))
    back = START + timedelta(days=3 + gap)
    day = START + timedelta(days=3)
    while day < back:
        world.run(day, policy, morning(back, 4))
        day += timedelta(days=1)
    assert len(world.sent()) == len(world.sent().filter(pl.col("send_on") < back)), "a backfill sends nothing late"
    before = world.outbox.filter(pl.col("status") == "sent").height
    decisions = world.run(back, policy, morning(back))
    after = world.outbox.filter(pl.col("status") == "sent")
    assert after.height - before <= after.select("customer_id").n_unique(), "never a burst"
    new = world.sent().filter(pl.col("business_date") == back)
    assert new["customer_id"].is_unique().all(), "never a burst"
    for row in decisions.filter(pl.col("decision") == "send").iter_rows(named=True):
        steps = policy.ladders[row["ladder"]].steps
        due = [s.offset_days for s in steps if s.offset_days <= row["days_past_due"]]
        earlier = world.sent().filter(
            (pl.col("customer_id") == row["customer_id"])
            & (pl.col("episode_id") == row["episode_id"])
            & (pl.col("business_date") < back)
        )
        if not row["escalated"]:
            assert row["offset_days"] == max(due), "the highest step now due, never a stale one"
        assert earlier.is_empty() or row["offset_days"] > earlier["offset_days"].max()
    check_promises(world, policy)


@st.composite
def rebanded_worlds(draw: st.DrawFn) -> World:
    """Reachable customers owing one invoice each, whose risk band changes from day to day."""
    customers, invoices, bands = [], [], {}
    for c in range(draw(st.integers(1, 5))):
        customers.append(reachable_customer(c, draw(st.sampled_from(["email", "sms"]))))
        bands[f"C{c}"] = draw(st.lists(st.sampled_from(["low", "high"]), min_size=DAYS, max_size=DAYS))
        due = START + timedelta(days=draw(st.integers(-30, 5)))
        invoices.append(an_invoice(f"C{c}", 0, due - timedelta(days=30), due, 5_000))
    return world_of(customers, invoices, bands)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=rebanded_worlds(), policy=policies())
def test_random_rebanding_never_plans_a_step_or_hand_off_twice_for_an_episode(world: World, policy: Policy) -> None:
    relaxed = policy.model_copy(
        update={
            "contact": policy.contact.model_copy(
                update={
                    "weekly_cap": 7,
                    "min_days_between_contacts": 0,
                    "business_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                    "observe_public_holidays": False,
                }
            )
        }
    )
    for n in range(DAYS):
        day = START + timedelta(days=n)
        world.run(day, relaxed, morning(day))
    check_promises(world, relaxed)
