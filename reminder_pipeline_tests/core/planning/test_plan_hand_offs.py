"""After a hand-off to a collector: the invoices it covered are never an episode again, and invoices billed
later are dunned as their own episode (``new_episode``) or wait while the handed-off one is owed (``hold``)."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reminder_pipeline.core.policy.config import LaterInvoices, Policy
from reminder_pipeline_tests.core.planning.properties import (
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
def indebted_worlds(draw: st.DrawFn) -> World:
    """Reachable customers with old debt, past any hand-off on the first day, billed again during the days."""
    customers, invoices, bands = [], [], {}
    for c in range(draw(st.integers(1, 4))):
        customer = f"C{c}"
        customers.append(
            reachable_customer(c, draw(st.sampled_from(["email", "sms"])), draw(st.sampled_from(ZONES[:-1])))
        )
        bands[customer] = draw(st.lists(st.sampled_from(["low", "high"]), min_size=1, max_size=DAYS))
        old = [START - timedelta(days=draw(st.integers(56, 90))) for _ in range(draw(st.integers(1, 2)))]
        new = [START + timedelta(days=draw(st.integers(-5, 20))) for _ in range(draw(st.integers(1, 3)))]
        for i, due in enumerate([*old, *new]):
            issue = due - timedelta(days=draw(st.sampled_from([7, 14])))
            paid = draw(st.one_of(st.none(), st.integers(0, 40).map(lambda d, issue=issue: issue + timedelta(days=d))))
            kept = i >= len(old) or draw(st.booleans())
            invoices.append(an_invoice(customer, i, issue, due, draw(st.integers(100, 10_000)), paid if kept else None))
    return world_of(customers, invoices, bands)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=indebted_worlds(), policy=policies(handoff=True), replans=st.sets(st.integers(0, DAYS - 1), max_size=6))
def test_after_a_hand_off_the_collectors_invoices_are_never_an_episode_again(
    world: World, policy: Policy, replans: set[int]
) -> None:
    """Under ``new_episode`` no day after a hand-off takes an invoice the collector has as its episode; under
    ``hold`` every such day keeps the handed-off episode while it is owed. Some days are planned again later."""
    for n in range(DAYS):
        day = START + timedelta(days=n)
        world.run(day, policy, morning(day))
        if n in replans:
            world.run(day, policy, morning(day, 15))
    tasks = world.outbox.filter(pl.col("channel") == "collector")
    held = tasks.explode("invoice_ids").select(
        "customer_id", pl.col("invoice_ids").alias("held"), pl.col("business_date").alias("handed_on")
    )
    decided = (
        pl.concat(world.decisions).join(held, on="customer_id").filter(pl.col("business_date") > pl.col("handed_on"))
    )
    if policy.handoff.later_invoices is LaterInvoices.NEW_EPISODE:
        again = decided.filter(pl.col("episode_id") == pl.col("held"))
        assert again.is_empty(), again.select("customer_id", "business_date", "episode_id", "reason").rows()
    else:
        episodes = tasks.select("customer_id", pl.col("episode_id").alias("handed"), pl.col("business_date"))
        moved = decided.join(episodes, on="customer_id").filter(
            (pl.col("business_date") > pl.col("business_date_right")) & (pl.col("episode_id") != pl.col("handed"))
        )
        for row in moved.iter_rows(named=True):
            owed = world.open_on(row["business_date"]).filter(pl.col("balance_minor") > 0)["invoice_id"]
            assert row["handed"] not in owed.to_list(), ("the episode moved on while owed", row)
    check_promises(world, policy)
