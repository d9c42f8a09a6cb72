"""Who gets a statement of account on a billing cycle day, by which channel, and when it may arrive.

Every customer of the cycle with something owed (an open, undisputed balance) gets one statement,
keyed on customer and cycle date: email when it reaches them, else a short SMS when the policy
allows it, else none. A statement is a message like any other: it arrives on a business day of the
customer's country, inside the policy's send window in every zone they may be in, and within the
rules of contact (one message a day, the weekly cap, the minimum interval) against every message
already planned or sent — so it goes on the first day of the week from the cycle day where all of
that holds, and the daily plans after it count it as a contact. It is planned only while the cycle
day lasts: a backfill of a past cycle day sends nothing late.

A courtesy note the day's plan wrote for the customer and has not handed over yet is folded into
the statement: the note is cancelled and the statement carries its words and stands for its step,
so the ladder counts the courtesy step as reached and no separate note follows for those invoices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import polars as pl

from reminder_pipeline.core.canonical import Channel
from reminder_pipeline.core.channels import CHANNEL_NAMES, CHANNELS, reachable, with_contact_columns
from reminder_pipeline.core.outbox import (
    NOT_CONTACTS,
    NOT_HANDED_OVER,
    STATEMENT_LADDER,
    STATEMENT_STEP,
    OutboxStatus,
    statement_keys,
)
from reminder_pipeline.core.planning.calendar import business_days
from reminder_pipeline.core.planning.contacts import contacts_around
from reminder_pipeline.core.planning.plan import OUTBOX_SCHEMA
from reminder_pipeline.core.planning.windows import local_window, zones_of
from reminder_pipeline.core.policy.config import ContactRules, Policy, StatementSms, Tone

SLOT_DAYS = 7
"""How many days from the cycle day a statement may wait for a day the rules of contact allow."""
STATEMENT_TONE = "statement"
OUTBOX_COLUMNS = {"outbox_id": pl.Int64(), **OUTBOX_SCHEMA, "step_index": pl.Int64(), "tone": pl.String()}
"""The outbox rows of the cycle's customers a statement's timing depends on: what the daily plan reads, and
the ids, step indexes and tones of the courtesy notes it may fold in."""
DECISION_SCHEMA = {
    "customer_id": pl.String(),
    "reason": pl.String(),
    "channel": pl.String(),
    "send_on": pl.Date(),
    "window_start": pl.Datetime("us", "UTC"),
    "window_end": pl.Datetime("us", "UTC"),
}


class StatementSkip(StrEnum):
    """Why a customer of the cycle with something owed gets no statement."""

    OPTED_OUT = "opted_out"
    NO_VALID_CONTACT = "no_valid_contact"
    NO_DAY_ALLOWED = "no_day_allowed"
    CYCLE_DAY_OVER = "cycle_day_over"
    PAUSED_BY_COLLECTOR = "paused_by_collector"


SKIP_DESCRIPTIONS = {
    StatementSkip.PAUSED_BY_COLLECTOR: "a collector paused contact with this customer",
    StatementSkip.OPTED_OUT: "opted out of every channel a statement may use",
    StatementSkip.NO_VALID_CONTACT: "no valid contact for any channel a statement may use",
    StatementSkip.NO_DAY_ALLOWED: f"no day in the {SLOT_DAYS} from the cycle day is a business day with a send "
    "window within the rules of contact",
    StatementSkip.CYCLE_DAY_OVER: "the cycle day is over (a past day run again): nothing is sent late",
}
FOLDED_REASON = "folded into the statement of account of {day}"


@dataclass(frozen=True)
class StatementInputs:
    day: date
    now: datetime
    cycle: pl.DataFrame
    """customer_id of the customers whose billing cycle falls on ``day``."""
    open_invoices: pl.DataFrame
    """invoice_id, customer_id, due_date, currency, balance_minor (the balance the ledger shows now)."""
    disputed: pl.DataFrame
    """invoice_id of invoices with a dispute open."""
    customers: pl.DataFrame
    """The cycle customers' contact details (``ledger.planning.CONTACT_SCHEMA``)."""
    outbox: pl.DataFrame
    """``OUTBOX_COLUMNS``: the outbox rows of the cycle's customers."""
    business_tz: str = "UTC"
    paused: pl.DataFrame | None = None
    """customer_id of the customers a collector paused on ``day`` (no statement either)."""

    @property
    def day_ends(self) -> datetime:
        return datetime.combine(self.day + timedelta(days=1), time(0), tzinfo=ZoneInfo(self.business_tz))


@dataclass(frozen=True)
class StatementPlan:
    decisions: pl.DataFrame
    """``DECISION_SCHEMA`` per cycle customer with something owed: a channel and a window, or a ``reason``."""
    outbox: pl.DataFrame
    """The statements to put in the outbox (``dedupe_key`` one per customer and cycle date)."""
    folded: pl.DataFrame
    """``customer_id, outbox_id, status, status_reason`` of the courtesy notes the statements stand for
    (cancelled)."""


def owed_lines(inputs: StatementInputs) -> pl.DataFrame:
    """The cycle customers' invoices with a balance owed and no dispute open, oldest due first."""
    return (
        inputs.open_invoices.filter(pl.col("balance_minor") > 0)
        .join(inputs.disputed.select("invoice_id"), on="invoice_id", how="anti")
        .join(inputs.cycle.select("customer_id"), on="customer_id", how="semi")
        .sort("customer_id", "due_date", "invoice_id")
    )


def _channel(policy: Policy) -> tuple[pl.Expr, pl.Expr]:
    """The statement's channel (email, else SMS when the policy allows it) and why there is none."""
    sms_allowed = policy.statements.sms is StatementSms.SUMMARY
    sms = reachable(Channel.SMS) & pl.lit(sms_allowed)
    channel = (
        pl.when(reachable(Channel.EMAIL))
        .then(pl.lit(Channel.EMAIL.value))
        .when(sms)
        .then(pl.lit(Channel.SMS.value))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    opted_out = pl.col(CHANNELS[Channel.EMAIL].opt_out).is_not_null() | (
        pl.lit(sms_allowed) & pl.col(CHANNELS[Channel.SMS].opt_out).is_not_null()
    )
    reason = (
        pl.when(channel.is_not_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(opted_out)
        .then(pl.lit(StatementSkip.OPTED_OUT.value))
        .otherwise(pl.lit(StatementSkip.NO_VALID_CONTACT.value))
    )
    return channel, reason


def _contacts(inputs: StatementInputs, keys: pl.DataFrame, folding: pl.DataFrame) -> pl.DataFrame:
    """The outbox rows that count against a statement: every row that reached or may still reach the customer,
    the day's plans too, but not the statement itself nor the courtesy note it folds in."""
    unsent = pl.col("status").is_in(NOT_HANDED_OVER)
    return inputs.outbox.filter(
        ~pl.col("status").is_in(NOT_CONTACTS),
        ~(unsent & (pl.col("window_end") <= inputs.now)),
        ~pl.col("dedupe_key").is_in(keys["dedupe_key"].implode()),
        ~pl.col("outbox_id").is_in(folding["outbox_id"].implode()),
    )


def courtesy_to_fold(inputs: StatementInputs) -> pl.DataFrame:
    """Per customer, the day's courtesy note not handed over yet (``outbox_id, episode_id, step, step_index,
    offset_days``), whose window is still open."""
    return (
        inputs.outbox.filter(
            pl.col("ladder") != STATEMENT_LADDER,
            pl.col("tone") == Tone.COURTESY.value,
            pl.col("channel").is_in(CHANNEL_NAMES),
            pl.col("status").is_in(NOT_HANDED_OVER),
            pl.col("business_date") == inputs.day,
            pl.col("window_end") > inputs.now,
        )
        .sort("outbox_id")
        .group_by("customer_id", maintain_order=True)
        .first()
        .select("customer_id", "outbox_id", "episode_id", "step", "step_index", "offset_days")
    )


def within_rules(rules: ContactRules) -> pl.Expr:
    """Whether a message may arrive on ``send_on`` besides the others (``contacts_around``'s columns): none the
    same day, fewer than the weekly cap in the seven days ending and starting on it, none closer than the
    minimum interval."""
    gap = rules.min_days_between_contacts
    return (
        ~pl.col("contacted_today").fill_null(False)
        & (pl.col("contacts_this_week").fill_null(0) < rules.weekly_cap)
        & (pl.col("contacts_next_week").fill_null(0) < rules.weekly_cap)
        & (pl.col("nearest_contact_days").fill_null(gap) >= gap)
    )


def _windows(candidates: pl.DataFrame, rules: ContactRules) -> pl.DataFrame:
    """``zones, country, send_on, window_start, window_end`` per distinct candidate (null bounds: no common hours)."""
    distinct = candidates.select("zones", "country", "send_on").unique()
    bounds = []
    for zones, country, on in distinct.iter_rows():
        window = rules.for_country(country)[3]
        bounds.append(local_window(on, tuple(zones.split("|")), window.start, window.end) or (None, None))
    schema = {k: DECISION_SCHEMA[k] for k in ("window_start", "window_end")}
    return pl.concat([distinct, pl.DataFrame(bounds, schema=schema, orient="row")], how="horizontal")


def _slots(frame: pl.DataFrame, counted: pl.DataFrame, inputs: StatementInputs, rules: ContactRules) -> pl.DataFrame:
    """Per customer, the first local date of the ``SLOT_DAYS`` from the cycle day on, and its window (UTC), on
    which the statement may arrive: a business day of their country, within the rules of contact against
    ``counted``, with a window in every zone they may be in that is not over yet."""
    days = pl.DataFrame({"send_on": [inputs.day + timedelta(days=n) for n in range(SLOT_DAYS)]})
    candidates = frame.select("customer_id", "zones", "country").drop_nulls("zones").join(days, how="cross")
    candidates = candidates.filter(business_days(candidates, rules))
    return (
        candidates.join(contacts_around(counted, candidates), on=["customer_id", "send_on"], how="left")
        .filter(within_rules(rules))
        .join(_windows(candidates, rules), on=["zones", "country", "send_on"], how="left", nulls_equal=True)
        .filter(pl.col("window_end") > inputs.now)
        .sort("send_on")
        .group_by("customer_id", maintain_order=True)
        .first()
        .select("customer_id", "send_on", "window_start", "window_end")
    )


def plan_statements(inputs: StatementInputs, policy: Policy) -> StatementPlan:
    """The day's statements: one per cycle customer with something owed, or the reason there is none."""
    lines = owed_lines(inputs)
    owed = lines.group_by("customer_id", maintain_order=True).agg(
        pl.col("invoice_id").alias("invoice_ids"),
        pl.col("balance_minor").sum().alias("amount_minor"),
        pl.col("currency").first(),
    )
    keys = owed.select("customer_id", statement_keys(pl.col("customer_id"), inputs.day.isoformat()).alias("dedupe_key"))
    folding = courtesy_to_fold(inputs).join(owed.select("customer_id"), on="customer_id", how="semi")
    channel, no_channel = _channel(policy)
    people = with_contact_columns(inputs.customers).join(owed.select("customer_id"), on="customer_id", how="semi")
    frame = people.with_columns(channel.alias("channel"), no_channel.alias("reason")).join(
        zones_of(people), on="customer_id", how="left"
    )
    if inputs.paused is not None and inputs.paused.height:
        paused = pl.col("customer_id").is_in(inputs.paused["customer_id"].implode())
        frame = frame.with_columns(
            pl.when(paused).then(pl.lit(StatementSkip.PAUSED_BY_COLLECTOR.value)).otherwise("reason").alias("reason")
        )
    if inputs.now >= inputs.day_ends:
        frame = frame.with_columns(pl.lit(StatementSkip.CYCLE_DAY_OVER.value).alias("reason"))
    slots = _slots(frame.filter(pl.col("reason").is_null()), _contacts(inputs, keys, folding), inputs, policy.contact)
    decisions = (
        owed.select("customer_id")
        .join(frame.select("customer_id", "channel", "reason"), on="customer_id", how="left")
        .join(slots, on="customer_id", how="left")
        .with_columns(
            pl.when(pl.col("reason").is_null() & pl.col("send_on").is_null())
            .then(pl.lit(StatementSkip.NO_DAY_ALLOWED.value))
            .otherwise(pl.col("reason"))
            .alias("reason")
        )
        .select(list(DECISION_SCHEMA))
    )
    going = decisions.filter(pl.col("reason").is_null())
    folded = folding.join(going.select("customer_id"), on="customer_id", how="semi")
    return StatementPlan(decisions, _rows(going, owed, keys, folded, inputs.day), _cancelled(folded, inputs.day))


def _rows(going: pl.DataFrame, owed: pl.DataFrame, keys: pl.DataFrame, folded: pl.DataFrame, day: date) -> pl.DataFrame:
    """The outbox rows of the statements: a folded courtesy note's episode and step, else the statement's own."""
    return (
        going.join(owed, on="customer_id")
        .join(keys, on="customer_id")
        .join(folded.drop("outbox_id"), on="customer_id", how="left")
        .select(
            "dedupe_key",
            "customer_id",
            pl.col("episode_id").fill_null(f"{STATEMENT_LADDER}:{day.isoformat()}"),
            pl.lit(STATEMENT_LADDER).alias("ladder"),
            pl.col("step").fill_null(STATEMENT_STEP),
            pl.col("step_index").fill_null(0).cast(pl.Int64),
            pl.col("offset_days").fill_null(0).cast(pl.Int64),
            pl.lit(STATEMENT_TONE).alias("tone"),
            "channel",
            pl.lit(day).alias("business_date"),
            "send_on",
            pl.lit(OutboxStatus.PLANNED.value).alias("status"),
            "window_start",
            "window_end",
            "invoice_ids",
            "amount_minor",
            "currency",
        )
        .sort("customer_id")
    )


def _cancelled(folded: pl.DataFrame, day: date) -> pl.DataFrame:
    return folded.select(
        "customer_id",
        "outbox_id",
        pl.lit(OutboxStatus.CANCELLED.value).alias("status"),
        pl.lit(FOLDED_REASON.format(day=day.isoformat())).alias("status_reason"),
    )
