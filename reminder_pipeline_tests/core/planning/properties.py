"""What the plan's property tests share: random policies and the promises every run must keep."""

from __future__ import annotations

import itertools
import os
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from hypothesis import strategies as st

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.policy.config import EARLIEST_SEND, LATEST_SEND, LaterInvoices, Policy
from reminder_pipeline_tests.core.planning.simulation import UTC_DT, World

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


def _ladder(draw: st.DrawFn, handoff: bool | None = None) -> dict[str, Any]:
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
    if draw(st.booleans()) if handoff is None else handoff:
        steps.append({"name": "collector", "offset_days": offsets[-1] + draw(st.integers(1, 15)), "action": "handoff"})
    return {"steps": steps}


def reachable_customer(c: int, preferred: str, zone: str = "Europe/Berlin") -> dict[str, Any]:
    """Customer ``C<c>`` in Germany, reachable by email and by SMS."""
    return {
        "customer_id": f"C{c}",
        "email": f"c{c}@example.com",
        "phone": "+4915112345678",
        "country": "DE",
        "time_zone": zone,
        "locale": "en_GB",
        "preferred_channel": preferred,
        "email_opt_out_at": None,
        "sms_opt_out_at": None,
        "sms_consent": True,
    }


def an_invoice(
    customer: str, i: int, issue: date, due: date, amount: int, paid_on: date | None = None
) -> dict[str, Any]:
    """Invoice ``<customer>-I<i>`` in EUR, never disputed."""
    return {
        "invoice_id": f"{customer}-I{i}",
        "customer_id": customer,
        "issue_date": issue,
        "due_date": due,
        "currency": "EUR",
        "amount_minor": amount,
        "paid_on": paid_on,
        "disputed_from": None,
        "disputed_until": None,
    }


def world_of(
    customers: list[dict[str, Any]], invoices: list[dict[str, Any]], bands: dict[str, list[str]], **more: Any
) -> World:
    """A world of these customers and invoices from ``START`` (``more``: the other fields of ``World``)."""
    return World(
        customers=pl.DataFrame(customers, schema_overrides={"email_opt_out_at": UTC_DT, "sms_opt_out_at": UTC_DT}),
        invoices=pl.DataFrame(
            invoices, schema_overrides={"paid_on": pl.Date, "disputed_from": pl.Date, "disputed_until": pl.Date}
        ),
        bands=bands,
        start=START,
        **more,
    )


@st.composite
def policies(draw: st.DrawFn, handoff: bool | None = None) -> Policy:
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
    ladders = {"early": _ladder(draw, handoff), "late": _ladder(draw, handoff)}
    return base.model_validate(
        {
            **base.model_dump(),
            "contact": contact.model_dump(),
            "ladders": ladders,
            "assignments": [{"risk_band": "high", "ladder": "early"}, {"ladder": "late"}],
            "handoff": {"later_invoices": draw(st.sampled_from(list(LaterInvoices)))},
        }
    )


def check_promises(world: World, policy: Policy) -> None:
    sent = world.sent()
    # promise 1: a reminder reaches a provider at most once
    assert sent["dedupe_key"].is_unique().all()
    # ... and a step or a hand-off reaches an episode once, whatever ladders the risk band moved it through
    reached = world.outbox.filter(pl.col("status").is_in(["sent", "task_open"]))
    per_step = reached.group_by("customer_id", "episode_id", "step").agg(pl.col("ladder"), pl.len())
    assert per_step.filter(pl.col("len") > 1).is_empty(), per_step.filter(pl.col("len") > 1).rows()
    handoffs = reached.filter(pl.col("channel") == "collector").group_by("customer_id", "episode_id").len()
    assert handoffs.filter(pl.col("len") > 1).is_empty(), handoffs.rows()
    check_hand_offs(world, policy)
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


def check_hand_offs(world: World, policy: Policy) -> None:
    """Nothing more for an episode after its hand-off. Under ``new_episode`` no message covers an invoice a
    collector had before the message's day; under ``hold`` no message goes out while the handed-off
    episode's invoice is owed and undisputed."""
    sent = world.sent()
    tasks = world.outbox.filter(pl.col("channel") == "collector").select(
        "customer_id", "episode_id", pl.col("business_date").alias("handed_on"), pl.col("invoice_ids").alias("held")
    )
    later = sent.join(tasks, on="customer_id").filter(pl.col("handed_on") < pl.col("business_date"))
    same = later.filter(pl.col("episode_id") == pl.col("episode_id_right"))
    assert same.is_empty(), same.select("customer_id", "episode_id", "step", "business_date").rows()
    for row in later.iter_rows(named=True):
        if policy.handoff.later_invoices is LaterInvoices.NEW_EPISODE:
            assert not set(row["invoice_ids"]) & set(row["held"]), ("a collector's invoice", row)
        else:
            day, episode = row["business_date"], row["episode_id_right"]
            owed = world.open_on(day).filter(pl.col("balance_minor") > 0)["invoice_id"].to_list()
            held = episode in owed and episode not in world.disputed_on(day)["invoice_id"].to_list()
            assert not held, ("sent while the handed-off episode is owed", row)
