"""The promise counters of a run, computed independently of the pipeline's own bookkeeping: from what the
provider sandbox accepted (its message log) and what the ledger holds."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import select

from reminder_pipeline.core.policy.config import Policy
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.store import Ledger


@dataclass(frozen=True)
class Delivered:
    """One message the sandbox accepted, matched to its outbox row and its customer."""

    reminder_key: str
    customer_id: str
    episode_id: str
    step: str
    business_date: date
    invoice_ids: tuple[str, ...]
    local: datetime
    """When the sandbox accepted it, in the customer's own zone."""


def _ledger_frames(ledger: Ledger) -> dict[str, list[dict[str, Any]]]:
    o, c, p, i = schema.outbox, schema.customers, schema.payments, schema.invoices
    queries = {
        "outbox": select(o.c.dedupe_key, o.c.customer_id, o.c.episode_id, o.c.step, o.c.business_date, o.c.invoice_ids),
        "customers": select(c.c.customer_id, c.c.time_zone),
        "payments": select(p.c.invoice_id, p.c.paid_date),
        "invoices": select(i.c.invoice_id, i.c.due_date),
    }
    with ledger.begin() as connection:
        return {name: [dict(r._mapping) for r in connection.execute(q).all()] for name, q in queries.items()}


def delivered(ledger: Ledger, messages: Sequence[dict[str, Any]]) -> tuple[list[Delivered], int]:
    """The sandbox's messages matched to the ledger, and how many carried a key the ledger does not know."""
    frames = _ledger_frames(ledger)
    rows = {r["dedupe_key"]: r for r in frames["outbox"]}
    zones = {r["customer_id"]: r["time_zone"] for r in frames["customers"]}
    found, unknown = [], 0
    for message in messages:
        row = rows.get(message["reminder_key"])
        if row is None:
            unknown += 1
            continue
        accepted = datetime.fromisoformat(message["accepted_at"]).astimezone(ZoneInfo(zones[row["customer_id"]]))
        found.append(
            Delivered(
                message["reminder_key"],
                row["customer_id"],
                row["episode_id"],
                row["step"],
                row["business_date"],
                tuple(json.loads(row["invoice_ids"])),
                accepted,
            )
        )
    return found, unknown


def highest_step_due(policy: Policy, ladder: str, days_past_due: int) -> str | None:
    due = [s.name for s in policy.ladders[ladder].steps if s.offset_days <= days_past_due]
    return due[-1] if due else None


def promise_counters(
    ledger: Ledger, messages: Sequence[dict[str, Any]], policy: Policy, *, catch_up_day: date | None = None
) -> dict[str, int]:
    """Duplicates, quiet hours, caps and payments over every message; and, for the messages of
    ``catch_up_day`` (the first day after an outage), stale steps, bursts and sends for a passed day."""
    found, unknown = delivered(ledger, messages)
    frames = _ledger_frames(ledger)
    paid_on: dict[str, date] = {}
    for payment in frames["payments"]:
        paid_on[payment["invoice_id"]] = min(payment["paid_date"], paid_on.get(payment["invoice_id"], date.max))
    due_on = {r["invoice_id"]: r["due_date"] for r in frames["invoices"]}
    window = policy.contact.send_window
    sent = pl.DataFrame(
        {"customer_id": [d.customer_id for d in found], "on": [d.local.date() for d in found]},
        schema={"customer_id": pl.String(), "on": pl.Date()},
    )
    per_day = sent.group_by("customer_id", "on").len()
    weekly = (
        sent.join(sent, on="customer_id", suffix="_other")
        .filter((pl.col("on_other") <= pl.col("on")) & ((pl.col("on") - pl.col("on_other")).dt.total_days() < 7))
        .group_by("customer_id", "on")
        .len()
    )
    counters = {
        "sent": len(messages),
        "unknown_keys": unknown,
        "duplicates": len(messages) - len({m["reminder_key"] for m in messages}),
        "sent_in_quiet_hours": sum(not (window.start <= d.local.time() < window.end) for d in found),
        "over_cap": int((per_day["len"].cast(pl.Int64) - 1).clip(lower_bound=0).sum())
        + int((weekly["len"].cast(pl.Int64) - policy.contact.weekly_cap).clip(lower_bound=0).sum()),
        "sent_after_payment": sum(
            any(i in paid_on and paid_on[i] <= d.local.date() for i in d.invoice_ids) for d in found
        ),
    }
    if catch_up_day is not None:
        after = [d for d in found if d.local.date() >= catch_up_day]
        ladder = next(iter(a.ladder for a in policy.assignments))
        counters["stale_after_catch_up"] = sum(
            d.step != highest_step_due(policy, ladder, (catch_up_day - due_on[d.episode_id]).days) for d in after
        )
        counters["burst_after_catch_up"] = len(after) - len({d.customer_id for d in after})
        counters["sent_for_a_passed_day"] = sum(d.business_date < catch_up_day for d in after)
    return counters
