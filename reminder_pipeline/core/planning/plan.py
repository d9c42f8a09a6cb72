"""One decision per customer per day: a ladder step, a channel and a send window — or a reasoned skip.

The dunning episode is the customer's oldest unpaid, undisputed invoice: its due date sets the
ladder's clock, and the message covers every overdue invoice in its currency (for the balance
left after partial payments). A step is known by its name in every ladder: ``reminder`` reached
under the standard ladder is reached under the low-risk one too. How far an episode has gone is
the steps it has received, whichever ladder they came from, so a customer moving between risk
bands continues from there: never a step already reached, never one at or below the largest
``offset_days`` received, never one before a reached step in the new ladder, and nothing after a
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

from reminder_pipeline.core.channels import opted_out_of, reachable_by
from reminder_pipeline.core.outbox import (
    COLLECTOR_CHANNEL,
    NOT_CONTACTS,
    NOT_HANDED_OVER,
    OutboxStatus,
    reminder_keys,
)
from reminder_pipeline.core.planning.calendar import business_days
from reminder_pipeline.core.planning.reasons import DESCRIPTIONS, Decision, SkipReason
from reminder_pipeline.core.planning.windows import send_windows
from reminder_pipeline.core.policy.config import Assignment, Policy, StepAction

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
EMPTY_LIST = pl.lit([], dtype=pl.List(pl.String))
SEGMENT_COLUMNS = {
    "risk_band": "risk_band",
    "aging_bucket": "aging_bucket",
    "value_tier": "value_tier",
    "channel": "segment_channel",
}
"""An assignment's fields and the plan's columns holding them (the segment's channel is renamed)."""


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

    @property
    def day_ends(self) -> datetime:
        return datetime.combine(self.day + timedelta(days=1), time(0), tzinfo=ZoneInfo(self.business_tz))


@dataclass(frozen=True)
class Plan:
    decisions: pl.DataFrame
    outbox: pl.DataFrame


def ladder_steps(policy: Policy) -> pl.DataFrame:
    rows = [
        {
            "ladder": name,
            "step_index": index,
            "step": step.name,
            "offset_days": step.offset_days,
            "action": step.action.value,
            "first_channel": step.channels[0].value if step.channels else None,
            "second_channel": step.channels[1].value if len(step.channels) > 1 else None,
            "tone": step.tone.value,
        }
        for name, ladder in policy.ladders.items()
        for index, step in enumerate(ladder.steps)
    ]
    return pl.DataFrame(rows).with_columns(pl.col("step_index", "offset_days").cast(pl.Int64))


def _matches(assignment: Assignment) -> pl.Expr:
    conditions = [
        pl.col(column) == value
        for field, column in SEGMENT_COLUMNS.items()
        if (value := getattr(assignment, field)) is not None
    ]
    return pl.all_horizontal(conditions).fill_null(False) if conditions else pl.lit(True)


def assign_ladder(assignments: list[Assignment]) -> pl.Expr:
    """The ladder of the first assignment matching the segment columns."""
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for assignment in reversed(assignments):
        expr = pl.when(_matches(assignment)).then(pl.lit(assignment.ladder)).otherwise(expr)
    return expr


def _episodes(inputs: PlanInputs) -> pl.DataFrame:
    """Per customer with unpaid, undisputed invoices: the episode, the invoices its message covers, the balance."""
    owed = inputs.open_invoices.filter(pl.col("balance_minor") > 0)
    undisputed = owed.join(inputs.disputed.select("invoice_id"), on="invoice_id", how="anti")
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
        .with_columns((pl.lit(inputs.day) - pl.col("episode_due")).dt.total_days().alias("days_past_due"))
    )


def counted_contacts(outbox: pl.DataFrame, day: date, now: datetime) -> pl.DataFrame:
    """Outbox rows that count as a contact for ``day``'s decisions.

    Whatever reached or may still reach someone, on any day, except the day's own unsent plans,
    so that replanning a day decides the same again.
    """
    unsent = pl.col("status").is_in(NOT_HANDED_OVER)
    return outbox.filter(
        ~pl.col("status").is_in(NOT_CONTACTS)
        & ~(unsent & (pl.col("window_end") <= now))
        & ~(unsent & (pl.col("business_date") == day))
    )


def episode_progress(counted: pl.DataFrame) -> pl.DataFrame:
    """Per dunning episode, how far it has gone whichever ladders it went through: ``reached_offset``,
    ``reached_on`` (when the furthest step went out), ``reached_steps`` (every step name received) and
    ``handed_off`` (a collector has it)."""
    return counted.group_by("customer_id", "episode_id").agg(
        pl.col("offset_days").max().alias("reached_offset"),
        pl.col("send_on").sort_by("offset_days").last().alias("reached_on"),
        pl.col("step").unique().sort().alias("reached_steps"),
        (pl.col("channel") == COLLECTOR_CHANNEL).any().alias("handed_off"),
    )


def _contacts(counted: pl.DataFrame, targets: pl.DataFrame) -> pl.DataFrame:
    """Per customer, around the local date ``send_on`` a message would arrive on: same-day, weekly and
    nearest contacts, before and after it."""
    messages = counted.filter(pl.col("channel") != COLLECTOR_CHANNEL).select(
        "customer_id", pl.col("send_on").alias("_on")
    )
    distance = (pl.col("_on") - pl.col("send_on")).dt.total_days()
    return (
        messages.join(targets.select("customer_id", "send_on"), on="customer_id", how="inner")
        .group_by("customer_id")
        .agg(
            (distance == 0).any().alias("contacted_today"),
            distance.is_between(-6, 0).sum().alias("contacts_this_week"),
            distance.is_between(0, 6).sum().alias("contacts_next_week"),
            distance.abs().filter(distance != 0).min().alias("nearest_contact_days"),
            pl.col("_on").filter(distance < 0).max().alias("last_contact"),
        )
    )


def _promises(inputs: PlanInputs, episodes: pl.DataFrame, grace_days: int) -> pl.DataFrame:
    """The latest promise made for the current episode: pending until its date plus grace, then broken.

    A promise belongs to the episode when it was made once the episode's invoice existed and, if it
    names an invoice, that invoice is still owed: a promise kept, or made for an earlier episode,
    says nothing about this one.
    """
    grace = timedelta(days=grace_days)
    owed = inputs.open_invoices.filter(pl.col("balance_minor") > 0).select("invoice_id", pl.lit(True).alias("_owed"))
    latest = (
        inputs.promises.filter(pl.col("made_on") <= inputs.day, ~pl.col("status").is_in(["kept", "cancelled"]))
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
        (~lapsed & (pl.col("status") != "broken")).alias("promise_pending"),
        pl.when(lapsed | (pl.col("status") == "broken"))
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


def _step_to_plan(frame: pl.DataFrame, steps: pl.DataFrame) -> pl.DataFrame:
    """The highest step of the customer's ladder now due beyond the episode's progress so far; after a
    broken promise, at least the next step beyond it."""
    candidates = frame.select(
        "customer_id", "ladder", "days_past_due", "reached_offset", "reached_steps", "handed_off", "escalated"
    ).join(steps, on="ladder")
    is_reached = pl.col("reached_steps").list.contains(pl.col("step")).fill_null(False)
    last_reached_index = pl.col("step_index").filter(is_reached).max().over("customer_id")
    beyond = (
        candidates.filter(
            ~pl.col("handed_off").fill_null(False)
            & ~is_reached
            & (pl.col("reached_offset").is_null() | (pl.col("offset_days") > pl.col("reached_offset")))
            & (last_reached_index.is_null() | (pl.col("step_index") > last_reached_index))
        )
        .group_by("customer_id")
        .agg(
            pl.col("step_index").filter(pl.col("offset_days") <= pl.col("days_past_due")).max().alias("_due"),
            pl.col("step_index").min().alias("_next"),
            pl.col("escalated").first(),
        )
        .select(
            "customer_id",
            pl.when(pl.col("escalated"))
            .then(pl.max_horizontal("_due", "_next"))
            .otherwise(pl.col("_due"))
            .alias("step_index"),
        )
    )
    return frame.join(beyond, on="customer_id", how="left").join(steps, on=["ladder", "step_index"], how="left")


def _skip_reason(inputs: PlanInputs, policy: Policy) -> pl.Expr:
    rules = policy.contact
    gap = rules.min_days_between_contacts
    any_opted_out = opted_out_of(pl.col("first_channel")) | opted_out_of(pl.col("second_channel")).fill_null(False)
    reasons: list[tuple[pl.Expr, SkipReason]] = [
        (~pl.col("still_owes").fill_null(False), SkipReason.PAID),
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


def _superseded(decided: pl.DataFrame, steps: pl.DataFrame) -> pl.DataFrame:
    """Per planned customer: the steps of its ladder passed over by catching up (between the furthest step
    reached and the one planned, other than those reached under another ladder)."""
    return (
        decided.filter(pl.col("decision") != Decision.SKIP.value)
        .select("customer_id", "ladder", pl.col("offset_days").alias("_to"), "reached_offset", "reached_steps")
        .join(steps.select("ladder", pl.col("offset_days").alias("_at"), pl.col("step").alias("_name")), on="ladder")
        .filter(
            (pl.col("reached_offset").is_null() | (pl.col("_at") > pl.col("reached_offset")))
            & (pl.col("_at") < pl.col("_to"))
            & ~pl.col("reached_steps").list.contains(pl.col("_name")).fill_null(False)
        )
        .sort("_at")
        .group_by("customer_id")
        .agg(pl.col("_name").alias("superseded_steps"))
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
    episodes = _episodes(inputs)
    credits = inputs.credits if inputs.credits is not None else pl.DataFrame(schema=CREDIT_SCHEMA)
    frame = (
        customers.join(episodes, on="customer_id", how="left")
        .join(inputs.segments.rename({"channel": "segment_channel"}), on="customer_id", how="left")
        .join(inputs.customers, on="customer_id", how="left")
        .join(windows, on="customer_id", how="left")
        .join(credits.select(list(CREDIT_SCHEMA)), on=["customer_id", "currency"], how="left")
        .with_columns(pl.col("send_on").fill_null(inputs.day))
    )
    frame = (
        frame.join(_contacts(counted, frame), on="customer_id", how="left")
        .join(reached, on=["customer_id", "episode_id"], how="left")
        .join(_promises(inputs, episodes, policy.contact.promise_grace_days), on="customer_id", how="left")
        .with_columns(
            assign_ladder(policy.assignments).alias("ladder"),
            # a broken promise moves the episode one step on, once: unless it was reminded since
            (
                pl.col("promise_broken_on").is_not_null()
                & (pl.col("reached_on").is_null() | (pl.col("reached_on") < pl.col("promise_broken_on")))
                & pl.col("episode_id").is_not_null()
            ).alias("escalated"),
        )
    )
    steps = ladder_steps(policy)
    frame = _step_to_plan(frame, steps)
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
        decided.join(_superseded(decided, steps), on="customer_id", how="left")
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
