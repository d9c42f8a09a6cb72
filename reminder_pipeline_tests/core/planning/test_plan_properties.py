"""Promises 3, 4 and 5 hold whatever the customers, zones, ladders, histories and outages."""

from __future__ import annotations

import itertools
import os
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reminder_pipeline.core.policy.config import EARLIEST_SEND, LATEST_SEND, Policy, load_policy
from reminder_pipeline_tests.core.planning.simulation import UTC_DT, World

START = date(2026, 3, 2)  # the weeks around the European and American DST changes
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


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    base = load_policy()
    start = draw(st.sampled_from([time(8), time(9), time(10)]))
    end = draw(st.sampled_from([time(17), time(19), time(21)]))
    offsets = sorted(draw(st.sets(st.integers(-5, 40), min_size=2, max_size=5)))
    steps = [
        {
            "name": f"s{i}",
            "offset_days": o,
            "channels": draw(st.sampled_from([["email"], ["sms", "email"], ["email", "sms"]])),
        }
        for i, o in enumerate(offsets)
    ]
    return base.model_copy(
        update={
            "contact": base.contact.model_copy(
                update={
                    "send_window": base.contact.send_window.model_copy(update={"start": start, "end": end}),
                    "weekly_cap": draw(st.integers(1, 3)),
                    "min_days_between_contacts": draw(st.integers(0, 4)),
                    "business_days": draw(
                        st.sampled_from(
                            [
                                ["mon", "tue", "wed", "thu", "fri"],
                                ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                            ]
                        )
                    ),
                }
            ),
            "ladders": {"only": base.ladders["standard"].model_validate({"steps": steps})},
            "assignments": [base.assignments[-1].model_copy(update={"ladder": "only"})],
        }
    )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n = draw(st.integers(1, 6))
    customers, segments, invoices = [], [], []
    for c in range(n):
        customer = f"C{c}"
        customers.append(
            {
                "customer_id": customer,
                "email": draw(st.sampled_from([f"c{c}@example.com", None])),
                "phone": draw(st.sampled_from(["+4915112345678", "+12025550143", "+61412345678", None])),
                "country": draw(st.sampled_from(COUNTRIES)),
                "time_zone": draw(st.sampled_from(ZONES)),
                "locale": "en_GB",
                "preferred_channel": draw(st.sampled_from(["email", "sms", None])),
                "email_opt_out_at": draw(st.sampled_from([None, datetime(2026, 1, 1, tzinfo=UTC)])),
                "sms_opt_out_at": draw(st.sampled_from([None, datetime(2026, 1, 1, tzinfo=UTC)])),
                "sms_consent": draw(st.booleans()),
            }
        )
        segments.append(
            {
                "customer_id": customer,
                "risk_band": "medium",
                "aging_bucket": "1-7",
                "value_tier": "small",
                "channel": "email",
            }
        )
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
    return World(
        customers=pl.DataFrame(customers, schema_overrides={"email_opt_out_at": UTC_DT, "sms_opt_out_at": UTC_DT}),
        invoices=pl.DataFrame(
            invoices, schema_overrides={"paid_on": pl.Date, "disputed_from": pl.Date, "disputed_until": pl.Date}
        ),
        segments=pl.DataFrame(segments),
    )


def _check_promises(world: World, policy: Policy) -> None:
    sent = world.outbox.filter(pl.col("channel") != "collector")
    # promise 4, on the recipient's local dates: one message a day, at most the weekly cap in any
    # seven days, and the policy's minimum interval between two messages
    per_day = sent.group_by("customer_id", "send_on").len()
    assert per_day["len"].max() in (None, 1), per_day.filter(pl.col("len") > 1)
    for customer, rows in sent.group_by("customer_id"):
        days = sorted(rows["send_on"].to_list())
        for first in days:
            in_week = [d for d in days if first <= d <= first + timedelta(days=6)]
            assert len(in_week) <= policy.contact.weekly_cap, (customer, days)
        gaps = [(b - a).days for a, b in itertools.pairwise(days)]
        assert all(g >= max(policy.contact.min_days_between_contacts, 1) for g in gaps), (customer, days)
    # promise 5: a step never goes out after a later one of the same episode, nor twice
    for _, rows in sent.sort("business_date").group_by("customer_id", "episode_id"):
        indices = rows["step_index"].to_list()
        assert indices == sorted(set(indices)), indices
    decisions = pl.concat(world.decisions)
    planned = decisions.filter(pl.col("decision") == "send")
    # promise 3: inside 08:00-21:00 and the policy's window in every zone the customer may be in
    for row in planned.iter_rows(named=True):
        for zone in row["zones"].split("|"):
            local_start = row["window_start"].astimezone(ZoneInfo(zone))
            local_end = row["window_end"].astimezone(ZoneInfo(zone))
            assert local_start.date() == local_end.date() == row["send_on"], (zone, row)
            begins, ends = local_start.time(), local_end.time()
            assert EARLIEST_SEND <= policy.contact.send_window.start <= begins, (zone, row)
            assert ends <= policy.contact.send_window.end <= LATEST_SEND, (zone, row)
            assert row["window_end"] - row["window_start"] <= timedelta(hours=13)
    # never to a paid or disputed invoice, never on an opted-out or unconsented channel
    for row in planned.iter_rows(named=True):
        day = row["business_date"]
        open_ids = set(world.open_on(day)["invoice_id"]) - set(world.disputed_on(day)["invoice_id"])
        assert set(row["invoice_ids"]) <= open_ids
        customer = world.customers.filter(pl.col("customer_id") == row["customer_id"]).row(0, named=True)
        if row["channel"] == "email":
            assert customer["email"]
            assert customer["email_opt_out_at"] is None
        else:
            assert customer["phone"]
            assert customer["sms_opt_out_at"] is None
            assert customer["sms_consent"]


@settings(
    max_examples=int(os.environ.get("PLAN_EXAMPLES", 35)), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(world=worlds(), policy=policies(), outage=st.tuples(st.integers(0, 20), st.integers(0, 12)))
def test_daily_runs_with_an_outage_keep_every_promise(world: World, policy: Policy, outage: tuple[int, int]) -> None:
    start_outage, length = outage
    days = [START + timedelta(days=n) for n in range(28)]
    missed = set(days[start_outage : start_outage + length])
    for day in days:
        if day in missed:
            continue
        if missed and day == max(missed) + timedelta(days=1):
            world.backfill(min(missed), max(missed), policy, datetime.combine(day, time(5), tzinfo=UTC))
        world.run_day(day, policy)
    _check_promises(world, policy)


@settings(
    max_examples=int(os.environ.get("PLAN_EXAMPLES", 25)), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(world=worlds(), policy=policies(), gap=st.integers(3, 20))
def test_after_an_outage_only_the_highest_step_due_goes_out(world: World, policy: Policy, gap: int) -> None:
    """Runs stop for ``gap`` days; on return the next message per episode is the highest step due."""
    for n in range(3):
        world.run_day(START + timedelta(days=n), policy)
    back = START + timedelta(days=3 + gap)
    world.backfill(
        START + timedelta(days=3), back - timedelta(days=1), policy, datetime.combine(back, time(5), tzinfo=UTC)
    )
    before = world.outbox.height
    decisions = world.run_day(back, policy)
    new = world.outbox.slice(before)
    assert new.group_by("customer_id").len()["len"].max() in (None, 1), "never a burst"
    steps = policy.ladders["only"].steps
    for row in decisions.filter(pl.col("decision") == "send").iter_rows(named=True):
        due = [i for i, s in enumerate(steps) if s.offset_days <= row["days_past_due"]]
        assert row["step_index"] == max(due), "the highest step now due, never a stale one"
    _check_promises(world, policy)
