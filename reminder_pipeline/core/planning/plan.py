"""One decision per customer per day: a ladder step, a channel and a send window — or a reasoned skip.

The dunning episode is the customer's oldest unpaid, undisputed invoice not with a collector: its
due date sets the ladder's clock, and the message covers every overdue invoice in its currency not
with a collector (for the balance left after partial payments). The invoices a collector row covers
(a hand-off, or the task for a message refused for good) are the collector's from the next day until
paid; as the policy's ``handoff.later_invoices`` says, invoices billed later are dunned as their own
episode (``new_episode``), or nothing more is planned while the handed-off episode is owed (``hold``).
A step is known by its name in every ladder: ``reminder`` reached under the standard ladder is
reached under the low-risk one too. How far an episode has gone is
the steps it has received, whichever ladder they came from, so a customer moving between risk
bands continues from there: never a step already reached, never one at or below the largest
``offset_days`` received, never one before a reached step in the new ladder, and nothing after its
hand-off. The step planned is the highest one now due beyond that point, so after missed days
only that one goes out (promise 5); a broken promise to pay for the episode moves one step
further. Contacts are counted on the recipient's local dates, earlier and later days alike, the
day's own unsent plans aside so that replanning a day decides the same again (promise 4). A
day whose send window is over is decided but nothing is planned for it: nothing is sent late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from reminder_pipeline.core.channels import opted_out_of, reachable_by, with_contact_columns
from reminder_pipeline.core.history import PROMISES_OVER, PromiseStatus
from reminder_pipeline.core.outbox import (
    COLLECTOR_CHANNEL,
    OutboxStatus,
    reminder_keys,
)
from reminder_pipeline.core.planning.calendar import business_days
from reminder_pipeline.core.planning.contacts import contacts_around, counted_contacts, episode_progress
from reminder_pipeline.core.planning.ladders import (
    SEGMENT_COLUMNS,
    assign_ladder,
    ladder_steps,
    step_to_plan,
    superseded_steps,
)
from reminder_pipeline.core.planning.reasons import DESCRIPTIONS, Decision, SkipReason
from reminder_pipeline.core.planning.windows import send_windows
from reminder_pipeline.core.policy.config import LaterInvoices, Policy, StepAction

OUTBOX_SCHEMA = {
    "dedupe_key": pl.String(),
    "customer_id": pl.String(),
    "episode_id": pl.String(),
    "ladder": pl.String(),
    "step": pl.String(),
    "offset_days": pl.Int64(),
    "channel": pl.String(),
    "business_date": pl.Date(),
    "send_on": pl.Date(),
    "status": pl.String(),
    "window_end": pl.Datetime("us", "UTC"),
}
CREDIT_SCHEMA = {"customer_id": pl.String(), "currency": pl.String(), "credit_minor": pl.Int64()}
PROMISE_SCHEMA = {
    "customer_id": pl.String(),
    "invoice_id": pl.String(),
    "promised_date": pl.Date(),
    "made_on": pl.Date(),
    "status": pl.String(),
}
HANDED_OVER_SCHEMA = {"customer_id": pl.String(), "invoice_id": pl.String(), "business_date": pl.Date()}
EMPTY_LIST = pl.lit([], dtype=pl.List(pl.String))


@dataclass(frozen=True)
class PlanInputs:
    day: date
    now: datetime
    open_invoices: pl.DataFrame
    """invoice_id, customer_id, issue_date, due_date, currency, balance_minor — invoices open when ``day``
    began, with the balance the ledger shows now (0 once paid since)."""
    disputed: pl.DataFrame
    """invoice_id of invoices with a dispute open."""
    promises: pl.DataFrame
    """``PROMISE_SCHEMA``: promises to pay (``invoice_id`` empty when a promise names no invoice)."""
    customers: pl.DataFrame
    """customer_id, email, phone, country, time_zone, locale, preferred_channel, email_opt_out_at,
    sms_opt_out_at, sms_consent."""
    segments: pl.DataFrame
    """customer_id, risk_band, aging_bucket, value_tier, channel."""
    outbox: pl.DataFrame
    """Other plans: ``OUTBOX_SCHEMA``."""
    business_tz: str = "UTC"
    """The time zone of business days: the day ends at midnight there."""
    credits: pl.DataFrame | None = None
    """``CREDIT_SCHEMA``: money customers paid beyond their invoices, per currency (none when absent)."""
    handed_over: pl.DataFrame | None = None
    """``HANDED_OVER_SCHEMA``: the invoices of the collector rows not cancelled (hand-offs, tasks for refused
    messages), with the business date that planned each (none when absent)."""

    @property
    def day_ends(self) -> datetime:
        return datetime.combine(self.day + timedelta(days=1), time(0), tzinfo=ZoneInfo(self.business_tz))


@dataclass(frozen=True)
class Plan:
    decisions: pl.DataFrame
    outbox: pl.DataFrame


def _with_collector(inputs: PlanInputs, later: LaterInvoices) -> pl.DataFrame:
    """``invoice_id`` of the invoices a collector has on the day: those of collector rows planned before it (on
    the day of a hand-off its episode stays the day's, already handed over). None under ``hold``."""
    if later is LaterInvoices.HOLD or inputs.handed_over is None:
        return pl.DataFrame(schema={"invoice_id": pl.String()})
    return inputs.handed_over.filter(pl.col("business_date") < inputs.day).select("invoice_id").unique()


def _episodes(inputs: PlanInputs, later: LaterInvoices) -> pl.DataFrame:
    """Per customer with unpaid, undisputed invoices: the episode, the invoices its message covers, the balance;
    ``with_collector`` when a collector has some of them (left out of the episode)."""
    owed = inputs.open_invoices.filter(pl.col("balance_minor") > 0)
    undisputed = owed.join(inputs.disputed.select("invoice_id"), on="invoice_id", how="anti")
    collectors = _with_collector(inputs, later)
    handed = undisputed.join(collectors, on="invoice_id", how="semi").select("customer_id").unique()
    undisputed = undisputed.join(collectors, on="invoice_id", how="anti")
    episode = (
        undisputed.sort("due_date", "invoice_id")
        .group_by("customer_id", maintain_order=True)
        .first()
        .select(
            "customer_id",
            pl.col("invoice_id").alias("episode_id"),
            pl.col("issue_date").alias("episode_issued"),
            pl.col("due_date").alias("episode_due"),
            "currency",
        )
    )
    covered = (
        undisputed.join(episode, on=["customer_id", "currency"], how="inner")
        .filter(pl.col("due_date") <= pl.max_horizontal(pl.lit(inputs.day), pl.col("episode_due")))
        .sort("due_date", "invoice_id")
        .group_by("customer_id", maintain_order=True)
        .agg(pl.col("invoice_id").alias("invoice_ids"), pl.col("balance_minor").sum().alias("amount_minor"))
    )
    state = inputs.open_invoices.group_by("customer_id").agg((pl.col("balance_minor") > 0).any().alias("still_owes"))
    return (
        state.join(episode, on="customer_id", how="left")
        .join(covered, on="customer_id", how="left")
        .join(handed.with_columns(pl.lit(True).alias("with_collector")), on="customer_id", how="left")
        .with_columns((pl.lit(inputs.day) - pl.col("episode_due")).dt.total_days().alias("days_past_due"))
    )


def _promises(inputs: PlanInputs, episodes: pl.DataFrame, grace_days: int, later: LaterInvoices) -> pl.DataFrame:
    """The latest promise made for the current episode: pending until its date plus grace, then broken.

    A promise belongs to the episode when it was made once the episode's invoice existed and, if it
    names an invoice, that invoice is still owed and not a collector's: a promise kept, made for an earlier
    episode or about the collector's invoices, says nothing about this one.
    """
    grace = timedelta(days=grace_days)
    owed = (
        inputs.open_invoices.filter(pl.col("balance_minor") > 0)
        .join(_with_collector(inputs, later), on="invoice_id", how="anti")
        .select("invoice_id", pl.lit(True).alias("_owed"))
    )
    latest = (
        inputs.promises.filter(pl.col("made_on") <= inputs.day, ~pl.col("status").is_in(PROMISES_OVER))
        .join(episodes.select("customer_id", "episode_issued"), on="customer_id", how="inner")
        .join(owed, on="invoice_id", how="left")
        .filter(
            (pl.col("made_on") >= pl.col("episode_issued"))
            & (pl.col("invoice_id").is_null() | pl.col("_owed").fill_null(False))
        )
        .sort("made_on")
        .group_by("customer_id")
        .last()
    )
    lapsed = (pl.col("promised_date") + grace) < inputs.day
    return latest.select(
        "customer_id",
        "promised_date",
        (~lapsed & (pl.col("status") != PromiseStatus.BROKEN.value)).alias("promise_pending"),
        pl.when(lapsed | (pl.col("status") == PromiseStatus.BROKEN.value))
        .then(pl.min_horizontal(pl.col("promised_date") + grace + timedelta(days=1), pl.lit(inputs.day)))
        .alias("promise_broken_on"),
    )


def _choose_channel() -> pl.Expr:
    """The customer's preferred channel when the step allows it and it is usable, else the step's order."""
    preferred = pl.col("preferred_channel")
    allowed = (preferred == pl.col("first_channel")) | (preferred == pl.col("second_channel"))
    return (
        pl.when(allowed.fill_null(False) & reachable_by(preferred))
        .then(preferred)
        .when(reachable_by(pl.col("first_channel")))
        .then(pl.col("first_channel"))
        .when(reachable_by(pl.col("second_channel")))
        .then(pl.col("second_channel"))
    )


def _skip_reason(inputs: PlanInputs, policy: Policy) -> pl.Expr:
    rules = policy.contact
    gap = rules.min_days_between_contacts
    any_opted_out = opted_out_of(pl.col("first_channel")) | opted_out_of(pl.col("second_channel")).fill_null(False)
    reasons: list[tuple[pl.Expr, SkipReason]] = [
        (~pl.col("still_owes").fill_null(False), SkipReason.PAID),
        (pl.col("episode_id").is_null() & pl.col("with_collector").fill_null(False), SkipReason.WITH_COLLECTOR),
        (pl.col("episode_id").is_null(), SkipReason.DISPUTED),
        (pl.col("credit_minor").fill_null(0) >= pl.col("amount_minor"), SkipReason.COVERED_BY_CREDIT),
        (pl.col("promise_pending").fill_null(False), SkipReason.PROMISE_PENDING),
        (pl.col("step_index").is_null(), SkipReason.NO_STEP_DUE),
    ]
    message_reasons: list[tuple[pl.Expr, SkipReason]] = [
        (~pl.col("business_day"), SkipReason.QUIET_DAY),
        (pl.col("chosen_channel").is_null() & any_opted_out, SkipReason.OPTED_OUT),
        (pl.col("chosen_channel").is_null(), SkipReason.NO_VALID_CONTACT),
        (pl.col("contacted_today").fill_null(False), SkipReason.CAPPED_TODAY),
        (
            (pl.col("contacts_this_week").fill_null(0) >= rules.weekly_cap)
            | (pl.col("contacts_next_week").fill_null(0) >= rules.weekly_cap),
            SkipReason.CAPPED_WEEK,
        ),
        (pl.col("nearest_contact_days").fill_null(gap) < gap, SkipReason.TOO_SOON),
        (pl.col("window_start").is_null(), SkipReason.NO_SEND_WINDOW),
        (pl.col("window_end") <= inputs.now, SkipReason.WINDOW_PASSED),
    ]
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    is_message = pl.col("action") != StepAction.HANDOFF
    for condition, reason in reversed(message_reasons):
        expr = pl.when(is_message & condition).then(pl.lit(reason.value)).otherwise(expr)
    for condition, reason in reversed(reasons):
        expr = pl.when(condition).then(pl.lit(reason.value)).otherwise(expr)
    return expr


def _detail() -> pl.Expr:
    """The decision in words, for the audit table and the dashboard."""
    description = pl.col("reason").replace_strict(DESCRIPTIONS, default=None, return_dtype=pl.String)
    sent = pl.format(
        "step '{}' of ladder '{}' is due ({} days from the due date of {}){}",
        "step",
        "ladder",
        "days_past_due",
        "episode_id",
        pl.when(pl.col("escalated")).then(pl.lit("; escalated after a broken promise")).otherwise(pl.lit("")),
    )
    return (
        pl.when(pl.col("reason").is_null())
        .then(sent)
        .when(pl.col("reason") == SkipReason.PROMISE_PENDING.value)
        .then(pl.format("{} (promised for {})", description, "promised_date"))
        .when(pl.col("reason") == SkipReason.NO_STEP_DUE.value)
        .then(pl.format("{} ({} days from the due date, ladder '{}')", description, "days_past_due", "ladder"))
        .when(pl.col("reason").is_in([SkipReason.TOO_SOON.value, SkipReason.CAPPED_WEEK.value]))
        .then(pl.format("{} (last contact {})", description, pl.col("last_contact").cast(pl.String).fill_null("-")))
        .otherwise(description)
    )


def plan_day(inputs: PlanInputs, policy: Policy) -> Plan:
    """Decide every customer with invoices open on the day; the decisions that send or hand off become outbox rows."""
    customers = inputs.open_invoices.select("customer_id").unique()
    counted = counted_contacts(inputs.outbox, inputs.day, inputs.now)
    reached = episode_progress(counted)
    windows = send_windows(
        inputs.customers.join(customers, on="customer_id", how="semi"),
        inputs.day,
        inputs.now,
        inputs.day_ends,
        policy.contact,
    )
    episodes = _episodes(inputs, policy.handoff.later_invoices)
    credits = inputs.credits if inputs.credits is not None else pl.DataFrame(schema=CREDIT_SCHEMA)
    frame = (
        customers.join(episodes, on="customer_id", how="left")
        .join(inputs.segments.rename({"channel": "segment_channel"}), on="customer_id", how="left")
        .join(with_contact_columns(inputs.customers), on="customer_id", how="left")
        .join(windows, on="customer_id", how="left")
        .join(credits.select(list(CREDIT_SCHEMA)), on=["customer_id", "currency"], how="left")
        .with_columns(pl.col("send_on").fill_null(inputs.day))
    )
    frame = (
        frame.join(contacts_around(counted, frame), on=["customer_id", "send_on"], how="left")
        .join(reached, on=["customer_id", "episode_id"], how="left")
        .join(
            _promises(inputs, episodes, policy.contact.promise_grace_days, policy.handoff.later_invoices),
            on="customer_id",
            how="left",
        )
        .with_columns(
            assign_ladder(policy.assignments).alias("ladder"),
            # a broken promise moves an overdue episode one step on, once: unless it was reminded since
            (
                (pl.col("days_past_due") > 0)
                & pl.col("promise_broken_on").is_not_null()
                & (pl.col("reached_on").is_null() | (pl.col("reached_on") < pl.col("promise_broken_on")))
                & pl.col("episode_id").is_not_null()
            ).alias("escalated"),
        )
    )
    steps = ladder_steps(policy)
    frame = step_to_plan(frame, steps)
    frame = frame.with_columns(
        business_days(frame, policy.contact).alias("business_day"), _choose_channel().alias("chosen_channel")
    )
    is_handoff = pl.col("action") == StepAction.HANDOFF
    decided = frame.with_columns(_skip_reason(inputs, policy).alias("reason")).with_columns(
        pl.when(pl.col("reason").is_not_null())
        .then(pl.lit(Decision.SKIP.value))
        .when(is_handoff)
        .then(pl.lit(Decision.HANDOFF.value))
        .otherwise(pl.lit(Decision.SEND.value))
        .alias("decision"),
        pl.when(is_handoff).then(pl.lit(COLLECTOR_CHANNEL)).otherwise(pl.col("chosen_channel")).alias("channel"),
    )
    decisions = (
        decided.join(superseded_steps(decided, steps), on="customer_id", how="left")
        .with_columns(
            pl.lit(inputs.day).alias("business_date"),
            pl.col("superseded_steps").fill_null(EMPTY_LIST),
            pl.col("invoice_ids").fill_null(EMPTY_LIST),
            (pl.col("escalated") & (pl.col("decision") != Decision.SKIP.value)).alias("escalated"),
            pl.concat_str(list(SEGMENT_COLUMNS.values()), separator=" / ").alias("segment"),
        )
        .with_columns(_detail().alias("detail"))
        .select(
            "business_date",
            "customer_id",
            "decision",
            "reason",
            "detail",
            "segment",
            "ladder",
            "episode_id",
            "days_past_due",
            "step",
            "step_index",
            "offset_days",
            "tone",
            "channel",
            "send_on",
            "window_start",
            "window_end",
            "zones",
            "invoice_ids",
            "amount_minor",
            "currency",
            "superseded_steps",
            "escalated",
        )
        .sort("customer_id")
    )
    return Plan(decisions, outbox_rows(decisions))


def outbox_rows(decisions: pl.DataFrame) -> pl.DataFrame:
    """The rows to add to the outbox for the decisions that send or hand off."""
    planned = decisions.filter(pl.col("decision") != Decision.SKIP.value)
    return planned.select(
        reminder_keys(pl.col("customer_id"), pl.col("episode_id"), pl.col("step"), pl.col("channel")).alias(
            "dedupe_key"
        ),
        "customer_id",
        "episode_id",
        "ladder",
        "step",
        "step_index",
        "offset_days",
        "tone",
        "channel",
        "business_date",
        "send_on",
        pl.when(pl.col("decision") == Decision.HANDOFF.value)
        .then(pl.lit(OutboxStatus.TASK_OPEN.value))
        .otherwise(pl.lit(OutboxStatus.PLANNED.value))
        .alias("status"),
        "window_start",
        "window_end",
        "invoice_ids",
        "amount_minor",
        "currency",
    )
