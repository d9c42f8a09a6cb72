"""The independent audit: the promises checked against the final ledger and the provider's message log.

It reads what any auditor could (``sandbox_messages.json``, the ledger's tables, the drop folder, the
payments the processor had acknowledged) and nothing the pipeline reported about itself. Every
message the sandbox accepted is matched to its ledger row by its reminder key, and:

- ``duplicates``: a reminder key accepted more than once (promise 1);
- ``sent_after_payment`` / ``_dispute`` / ``_opt_out``: accepted after the ledger showed one of its
  invoices paid in full (the instant the payment webhook was received; a payment from the feed from
  its day on), disputed (a dispute from a reply from the reply's instant, one from the feed from its
  day on), or its channel opted out (promise 2);
- ``sent_in_quiet_hours``: accepted outside 08:00–21:00 local time in any zone the recipient may be in
  (their time zone; unknown, every zone of their country and of their number's region) (promise 3);
  ``sent_outside_policy_window`` the same against the policy's narrower window;
- ``over_cap``: messages beyond the first on a customer's local day, or beyond the weekly cap in any
  seven local days, counting only messages the provider did not report undelivered (promise 4);
- ``stale_after_catch_up``: on the first business day after an outage, a message whose step was
  superseded by a later step of its ladder already due, a second message reaching a customer that day or a
  second ladder step that day's plan wrote for a customer, whenever it went (one the provider reported
  undelivered aside: its fallback is the same reminder), or any message planned for a missed day, a missed
  cycle day's statement of account included (promise 5);
- ``lost_rows`` (promise 6): see :mod:`reminder_pipeline.simulation.audit_lost`.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from datetime import date, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers
import polars as pl
import pytz
from phonenumbers import timezone as phone_zones

from reminder_pipeline.core.channels import CHANNEL_NAMES
from reminder_pipeline.core.outbox import STATEMENT_LADDER, OutboxStatus
from reminder_pipeline.core.policy.config import Policy
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.simulation.audit_lost import lost_rows
from reminder_pipeline.simulation.audit_tables import Calendar, Tables, read_tables

QUIET_START, QUIET_END = time(8), time(21)
REACHED_NOBODY = ("undelivered", "failed", "not_delivered")


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def zones_of(time_zone: str | None, country: str | None, phone: str | None) -> tuple[str, ...]:
    """Where the recipient may be: their zone, else every zone of their country and their number's region
    (with nothing known, every zone there is)."""
    if time_zone and time_zone in _known_zones():
        return (time_zone,)
    found = set(pytz.country_timezones.get(country, [])) if country else set()
    if phone:
        with contextlib.suppress(phonenumbers.NumberParseException):
            found |= set(phone_zones.time_zones_for_number(phonenumbers.parse(phone, None)))
    found &= _known_zones()
    return tuple(sorted(found)) or tuple(sorted(_known_zones()))


def _sent(tables: Tables) -> pl.DataFrame:
    """Every accepted message with its ledger row and recipient."""
    rows = tables.outbox.select(
        pl.col("dedupe_key").alias("reminder_key"), "customer_id", "episode_id", "ladder", "step_index",
        "business_date", "invoice_ids", pl.col("status").alias("ledger_status"),
    )  # fmt: skip
    return tables.messages.join(rows, on="reminder_key", how="left").join(
        tables.customers, on="customer_id", how="left"
    )


def _paid_instants(tables: Tables) -> pl.DataFrame:
    """``invoice_id, paid_at``: when the ledger first showed each invoice paid in full."""
    events = tables.payment_events.select(pl.col("dedupe_key").alias("payment_id"), "received_at")
    known = tables.payments.join(events, on="payment_id", how="left").with_columns(
        pl.when(pl.col("source").str.starts_with("webhook:"))
        .then(pl.col("received_at"))
        .otherwise(pl.col("paid_date").cast(pl.Datetime("us", "UTC")))
        .alias("known_at")
    )
    return (
        known.sort("known_at")
        .with_columns(pl.col("amount_minor").cum_sum().over("invoice_id").alias("paid"))
        .join(tables.invoices.select("invoice_id", pl.col("amount_minor").alias("amount")), on="invoice_id")
        .filter(pl.col("paid") >= pl.col("amount"))
        .group_by("invoice_id")
        .agg(pl.col("known_at").min().alias("paid_at"))
    )


def _dispute_instants(tables: Tables) -> pl.DataFrame:
    """``invoice_id, disputed_at, resolved_on``: a reply's dispute from the reply, the feed's from its day."""
    replies = tables.replies.select(
        pl.concat_str(pl.lit("reply:"), "channel", pl.lit(":"), "provider_id").str.slice(0, 60).alias("source"),
        "received_at",
    )
    return tables.disputes.join(replies, on="source", how="left").select(
        "invoice_id",
        pl.coalesce("received_at", pl.col("opened_on").cast(pl.Datetime("us", "UTC"))).alias("disputed_at"),
        "resolved_on",
    )


def _after(sent: pl.DataFrame, instants: pl.DataFrame, column: str, resolved: bool = False) -> int:
    exploded = sent.select(
        "reminder_key", "accepted_at", pl.col("invoice_ids").str.json_decode(pl.List(pl.String)).alias("invoice_id")
    ).explode("invoice_id")
    hit = exploded.join(instants, on="invoice_id").filter(pl.col("accepted_at") >= pl.col(column))
    if resolved:
        hit = hit.filter(pl.col("resolved_on").is_null() | (pl.col("resolved_on") > pl.col("accepted_at").dt.date()))
    return hit.select(pl.struct("reminder_key", "accepted_at").n_unique()).item() if hit.height else 0


def _opted_out(sent: pl.DataFrame) -> int:
    column = pl.when(pl.col("channel") == "sms").then(pl.col("sms_opt_out_at")).otherwise(pl.col("email_opt_out_at"))
    return sent.filter(column.is_not_null() & (pl.col("accepted_at") >= column)).height


def _local_checks(sent: pl.DataFrame, policy: Policy) -> dict[str, Any]:
    """Quiet hours (promise 3) and caps (promise 4), in each recipient's local time."""
    quiet = outside_policy = 0
    days: dict[str, list[date]] = defaultdict(list)
    for row in sent.iter_rows(named=True):
        zones = zones_of(row["time_zone"], row["country"], row["phone"])
        window = policy.contact.for_country(row["country"])[3]
        local_times = [row["accepted_at"].astimezone(ZoneInfo(z)).time() for z in zones]
        quiet += any(not QUIET_START <= t < QUIET_END for t in local_times)
        outside_policy += any(not window.start <= t < window.end for t in local_times)
        if row["status"] not in REACHED_NOBODY and row["customer_id"] is not None:
            days[row["customer_id"]].append(row["accepted_at"].astimezone(ZoneInfo(zones[0])).date())
    same_day = weekly = 0
    cap = policy.contact.weekly_cap
    for dates in days.values():
        dates.sort()
        same_day += len(dates) - len(set(dates))
        weekly += sum(
            1 for i, d in enumerate(dates) if sum(1 for x in dates[: i + 1] if d - x < timedelta(days=7)) > cap
        )
    return {"quiet": quiet, "outside_policy": outside_policy, "same_day": same_day, "weekly": weekly}


def _stale(sent: pl.DataFrame, tables: Tables, policy: Policy, calendar: Calendar) -> dict[str, int]:
    """Promise 5 on the catch-up day: superseded ladder steps planned that day, a burst (more than one message
    reaching a customer that day, or more than one ladder step the day's plan wrote for a customer reaching
    them, whatever day each went), missed days' rows. A statement of account is no ladder step (never
    superseded, and planned by the billing cycle, not the catch-up); it counts in the day's burst like any
    message, and a missed cycle day's statement is never sent late."""
    catch_up = calendar.catch_up_day
    if catch_up is None:
        return {"superseded": 0, "burst": 0, "missed_days": 0}
    missed = sent.filter(pl.col("business_date").is_in(list(calendar.outage))).height
    steps = sent.filter(pl.col("ladder") != STATEMENT_LADDER)
    due = tables.invoices.select(pl.col("invoice_id").alias("episode_id"), "due_date")
    today = pl.col("business_date") == catch_up
    planned = steps.filter(today).join(due, on="episode_id", how="left")
    superseded = 0
    for row in planned.iter_rows(named=True):
        ladder = policy.ladders.get(row["ladder"])
        if ladder is None or row["due_date"] is None:
            superseded += 1
            continue
        late = (row["business_date"] - row["due_date"]).days
        superseded += any(s.offset_days <= late for s in ladder.steps[row["step_index"] + 1 :])
    reached = sent.filter(~pl.col("status").is_in(REACHED_NOBODY) & pl.col("customer_id").is_not_null())
    on_the_day = _beyond_the_first(reached.filter(pl.col("accepted_at").dt.date() == catch_up))
    # the catch-up's own plan chasing a customer twice, even when the day's cap spread the sends over two days
    of_the_plan = _beyond_the_first(reached.filter(pl.col("ladder") != STATEMENT_LADDER).filter(today))
    return {"superseded": superseded, "burst": len(on_the_day | of_the_plan), "missed_days": missed}


def _beyond_the_first(messages: pl.DataFrame) -> set[tuple[Any, ...]]:
    """The messages after each customer's first (by ``accepted_at``), as (reminder_key, accepted_at)."""
    later = messages.sort("accepted_at", "reminder_key").filter(pl.int_range(pl.len()).over("customer_id") > 0)
    return set(later.select("reminder_key", "accepted_at").iter_rows())


def audit(
    ledger: Ledger, messages: list[dict[str, Any]], policy: Policy, calendar: Calendar, workdir: Path
) -> dict[str, Any]:
    """``{"counters": ..., "details": ...}`` from the ledger and the message log alone."""
    tables = read_tables(ledger, messages)
    sent = _sent(tables)
    local = _local_checks(sent, policy)
    stale = _stale(sent, tables, policy, calendar)
    lost = lost_rows(tables, calendar, workdir)
    reminders = tables.outbox.filter(pl.col("channel").is_in(CHANNEL_NAMES))
    unknown_keys = sent.filter(pl.col("customer_id").is_null()).height
    recorded = (OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.FAILED, OutboxStatus.UNRESOLVED)
    counters = {
        "due": reminders["dedupe_key"].n_unique(),
        "sent": tables.messages["reminder_key"].n_unique(),
        "duplicates": tables.messages.height - tables.messages["reminder_key"].n_unique(),
        "sent_after_payment": _after(sent, _paid_instants(tables), "paid_at"),
        "sent_after_dispute": _after(sent, _dispute_instants(tables), "disputed_at", resolved=True),
        "sent_after_opt_out": _opted_out(sent),
        "sent_in_quiet_hours": local["quiet"],
        "sent_outside_policy_window": local["outside_policy"],
        "over_cap": local["same_day"] + local["weekly"],
        "stale_after_catch_up": sum(stale.values()),
        "lost_rows": sum(lost.values()),
        "unrecorded_sends": sent.filter(~pl.col("ledger_status").is_in(recorded)).height,
        "unknown_reminder_keys": unknown_keys,
    }
    statuses = {str(k): int(v) for k, v in reminders["status"].value_counts().iter_rows()}
    details = {
        "over_cap": {"same_local_day": local["same_day"], "over_weekly_cap": local["weekly"]},
        "stale_after_catch_up": stale
        | {"catch_up_day": calendar.catch_up_day.isoformat() if calendar.catch_up_day else None},
        "lost_rows": lost,
        "outbox_by_status": dict(sorted(statuses.items())),
        "messages_by_channel": {str(k): int(v) for k, v in tables.messages["channel"].value_counts().iter_rows()},
        "messages_reaching_nobody": tables.messages.filter(pl.col("status").is_in(REACHED_NOBODY)).height,
    }
    return {"counters": counters, "details": details}
