"""Promises 3, 4 and 5 hold whatever the customers, zones, ladders, risk changes, promises, replans,
failed deliveries and outages; and nothing goes to a paid, disputed or opted-out customer."""

from __future__ import annotations

import itertools
import os
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.planning.plan import PROMISE_SCHEMA
from reminder_pipeline.core.policy.config import EARLIEST_SEND, LATEST_SEND, Policy
from reminder_pipeline_tests.core.planning.simulation import UTC_DT, World, morning

START = date(2026, 3, 2)  # the weeks around the European and American DST changes
DAYS = 28
ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",  # +05:30
    "Australia/Adelaide",  # +09:30/+10:30, DST in the other direction
    "Asia/Kathmandu",  # +05:45
    "Pacific/Chatham",  # +12:45/+13:45
    None,  # unknown: guessed from the phone or the country
]
COUNTRIES = ["DE", "US", "IN", "AU", "NP", "NZ", "GB"]
EXAMPLES = int(os.environ.get("PLAN_EXAMPLES", 30))
TONES = {True: "courtesy", False: "friendly"}


STEP_NAMES = ["courtesy", "reminder", "second_reminder", "firm_reminder", "final_notice"]
"""Both ladders take their step names, in this order, from one list: the same step sits at different
offsets in the two ladders, as in the shipped policy."""


def _ladder(draw: st.DrawFn) -> dict[str, Any]:
    offsets = sorted(draw(st.sets(st.integers(-5, 40), min_size=2, max_size=5)))
    names = sorted(
        draw(st.sets(st.sampled_from(STEP_NAMES), min_size=len(offsets), max_size=len(offsets))), key=STEP_NAMES.index
    )
    steps = [
        {
            "name": name,
            "offset_days": o,
            "tone": TONES[o <= 0],
            "channels": draw(st.sampled_from([["email"], ["sms", "email"], ["email", "sms"]])),
        }
        for name, o in zip(names, offsets, strict=True)
    ]
    if draw(st.booleans()):
        steps.append({"name": "collector", "offset_days": offsets[-1] + draw(st.integers(1, 15)), "action": "handoff"})
    return {"steps": steps}


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    """Random windows, caps, intervals and working weeks; two ladders, one for high risk, one for the rest."""
    base = load_policy()
    contact = base.contact.model_copy(
        update={
            "send_window": base.contact.send_window.model_copy(
                update={
                    "start": draw(st.sampled_from([time(8), time(9), time(10)])),
                    "end": draw(st.sampled_from([time(17), time(19), time(21)])),
                }
            ),
            "weekly_cap": draw(st.integers(1, 3)),
            "min_days_between_contacts": draw(st.integers(0, 4)),
            "business_days": draw(
                st.sampled_from(
                    [["mon", "tue", "wed", "thu", "fri"], ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]]
                )
            ),
        }
    )
    ladders = {"early": _ladder(draw), "late": _ladder(draw)}
    return base.model_validate(
        {
            **base.model_dump(),
            "contact": contact.model_dump(),
            "ladders": ladders,
            "assignments": [{"risk_band": "high", "ladder": "early"}, {"ladder": "late"}],
        }
    )


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
    return World(
        customers=pl.DataFrame(customers, schema_overrides={"email_opt_out_at": UTC_DT, "sms_opt_out_at": UTC_DT}),
        invoices=pl.DataFrame(
            invoices, schema_overrides={"paid_on": pl.Date, "disputed_from": pl.Date, "disputed_until": pl.Date}
        ),
        bands=bands,
        start=START,
        promises=pl.DataFrame(promises, schema=PROMISE_SCHEMA),
        delivery_failure=draw(st.sampled_from([0.0, 0.0, 0.3])),
        seed=draw(st.integers(0, 1000)),
    )


def _check_promises(world: World, policy: Policy) -> None:
    sent = world.sent()
    # promise 1: a reminder reaches a provider at most once
    assert sent["dedupe_key"].is_unique().all()
    # ... and a step or a hand-off reaches an episode once, whatever ladders the risk band moved it through
    reached = world.outbox.filter(pl.col("status").is_in(["sent", "task_open"]))
    per_step = reached.group_by("customer_id", "episode_id", "step").agg(pl.col("ladder"), pl.len())
    assert per_step.filter(pl.col("len") > 1).is_empty(), per_step.filter(pl.col("len") > 1).rows()
    handoffs = reached.filter(pl.col("channel") == "collector").group_by("customer_id", "episode_id").len()
    assert handoffs.filter(pl.col("len") > 1).is_empty(), handoffs.rows()
    # promise 4, on the recipient's local dates: one message a day, at most the weekly cap in any
    # seven days, and the policy's minimum interval between two messages
    for customer, rows in sent.group_by("customer_id"):
        days = sorted(rows["send_on"].to_list())
        assert len(days) == len(set(days)), (customer, days)
        for first in days:
            in_week = [d for d in days if first <= d <= first + timedelta(days=6)]
            assert len(in_week) <= policy.contact.weekly_cap, (customer, days)
        gaps = [(b - a).days for a, b in itertools.pairwise(days)]
        assert all(g >= max(policy.contact.min_days_between_contacts, 1) for g in gaps), (customer, days)
    # promise 5: within an episode each message is further up the ladders than the one before
    for key, rows in sent.sort("send_on").group_by("customer_id", "episode_id"):
        offsets = rows["offset_days"].to_list()
        assert offsets == sorted(set(offsets)), (key, rows.select("ladder", "step", "send_on").rows())
    decisions = pl.concat(world.decisions)
    sent_decisions = decisions.join(
        sent.select("customer_id", "business_date", "step", "channel"),
        on=["customer_id", "business_date", "step", "channel"],
        how="semi",
    ).filter(pl.col("decision") == "send")
    # promise 3: inside 08:00-21:00 and the policy's window in every zone the customer may be in
    for row in sent_decisions.iter_rows(named=True):
        for zone in row["zones"].split("|"):
            local_start = row["window_start"].astimezone(ZoneInfo(zone))
            local_end = row["window_end"].astimezone(ZoneInfo(zone))
            assert local_start.date() == local_end.date() == row["send_on"], (zone, row)
            begins, ends = local_start.time(), local_end.time()
            assert EARLIEST_SEND <= policy.contact.send_window.start <= begins, (zone, row)
            assert ends <= policy.contact.send_window.end <= LATEST_SEND, (zone, row)
    # never to a paid or disputed invoice, never on an opted-out or unconsented channel
    for row in sent_decisions.iter_rows(named=True):
        day = row["business_date"]
        owed = world.open_on(day).filter(pl.col("balance_minor") > 0)
        assert set(row["invoice_ids"]) <= set(owed["invoice_id"]) - set(world.disputed_on(day)["invoice_id"])
        customer = world.customers.filter(pl.col("customer_id") == row["customer_id"]).row(0, named=True)
        if row["channel"] == "email":
            assert customer["email"]
            assert customer["email_opt_out_at"] is None
        else:
            assert customer["phone"]
            assert customer["sms_opt_out_at"] is None
            assert customer["sms_consent"]


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
    _check_promises(world, policy)


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
    _check_promises(world, policy)


@st.composite
def rebanded_worlds(draw: st.DrawFn) -> World:
    """Reachable customers owing one invoice each, whose risk band changes from day to day."""
    n = draw(st.integers(1, 5))
    customers, invoices, bands = [], [], {}
    for c in range(n):
        customer = f"C{c}"
        customers.append(
            {
                "customer_id": customer,
                "email": f"c{c}@example.com",
                "phone": "+4915112345678",
                "country": "DE",
                "time_zone": "Europe/Berlin",
                "locale": "en_GB",
                "preferred_channel": draw(st.sampled_from(["email", "sms"])),
                "email_opt_out_at": None,
                "sms_opt_out_at": None,
                "sms_consent": True,
            }
        )
        bands[customer] = draw(st.lists(st.sampled_from(["low", "high"]), min_size=DAYS, max_size=DAYS))
        due = START + timedelta(days=draw(st.integers(-30, 5)))
        invoices.append(
            {
                "invoice_id": f"{customer}-I0",
                "customer_id": customer,
                "issue_date": due - timedelta(days=30),
                "due_date": due,
                "currency": "EUR",
                "amount_minor": 5_000,
                "paid_on": None,
                "disputed_from": None,
                "disputed_until": None,
            }
        )
    return World(
        customers=pl.DataFrame(customers, schema_overrides={"email_opt_out_at": UTC_DT, "sms_opt_out_at": UTC_DT}),
        invoices=pl.DataFrame(
            invoices, schema_overrides={"paid_on": pl.Date, "disputed_from": pl.Date, "disputed_until": pl.Date}
        ),
        bands=bands,
        start=START,
    )


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
    _check_promises(world, relaxed)
