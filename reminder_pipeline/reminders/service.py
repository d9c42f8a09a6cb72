"""A business day's reminders: plan and record them, then write their messages.

Each function owns its transaction: it holds the outbox lock from the first read to the last
write, so a plan and a rendering of the same outbox never interleave, whichever process runs
them, and a crash leaves the ledger as it was. The Dagster assets, the benchmarks and the
simulation call these, so they all run the same code path.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

import polars as pl

from reminder_pipeline.core.channels import CHANNEL_NAMES
from reminder_pipeline.core.outbox import OUTBOX_LOCK
from reminder_pipeline.core.planning.pauses import apply_pauses
from reminder_pipeline.core.planning.plan import PlanInputs, plan_day
from reminder_pipeline.core.planning.reasons import Decision
from reminder_pipeline.core.planning.shards import ALL_CUSTOMERS, Shard
from reminder_pipeline.core.policy.config import Policy
from reminder_pipeline.core.rendering.checks import message_problems
from reminder_pipeline.core.rendering.chunks import render_in_chunks
from reminder_pipeline.core.rendering.links import LinkSigner
from reminder_pipeline.core.rendering.outcomes import failed_checks, rendering_outcomes
from reminder_pipeline.core.rendering.render import RenderContext
from reminder_pipeline.core.rendering.templates import Templates
from reminder_pipeline.core.rendering.triage import triage
from reminder_pipeline.ledger import receivables
from reminder_pipeline.ledger.messages import messages_to_render, write_messages
from reminder_pipeline.ledger.outbox import OutboxWrite, expire_unsent, record_decisions, set_statuses, write_plan
from reminder_pipeline.ledger.pauses import paused_on
from reminder_pipeline.ledger.planning import contacts, open_disputes, plan_inputs
from reminder_pipeline.ledger.receivables import invoice_lines
from reminder_pipeline.ledger.store import Ledger


def contact_horizon(policy: Policy) -> int:
    """How far around a day earlier contacts can still matter: the weekly cap and the minimum interval."""
    return max(7, policy.contact.min_days_between_contacts) + 1


@dataclass(frozen=True)
class DayPlan:
    day: date
    decisions: pl.DataFrame
    written: OutboxWrite
    expired: int

    def summary(self) -> dict[str, object]:
        counts = {str(k): int(v) for k, v in self.decisions["decision"].value_counts().iter_rows()}
        return {
            "day": self.day.isoformat(),
            "customers": self.decisions.height,
            "send": counts.get(Decision.SEND.value, 0),
            "handoff": counts.get(Decision.HANDOFF.value, 0),
            "skip": counts.get(Decision.SKIP.value, 0),
            "outbox_added": self.written.inserted + self.written.revived,
            "outbox_unchanged": self.written.unchanged,
            "cancelled": self.written.cancelled,
            "expired": self.expired,
        }


def shard_inputs(inputs: PlanInputs, shard: Shard) -> PlanInputs:
    """The inputs of ``shard``'s customers only (disputes are by invoice: only those of its invoices matter)."""
    if shard.whole:
        return inputs
    credits = None if inputs.credits is None else shard.members(inputs.credits)
    handed_over = None if inputs.handed_over is None else shard.members(inputs.handed_over)
    return replace(
        inputs,
        open_invoices=shard.members(inputs.open_invoices),
        promises=shard.members(inputs.promises),
        customers=shard.members(inputs.customers),
        segments=shard.members(inputs.segments),
        outbox=shard.members(inputs.outbox),
        credits=credits,
        handed_over=handed_over,
    )


def plan_and_record_day(
    ledger: Ledger,
    policy: Policy,
    day: date,
    now: datetime,
    *,
    run_id: str,
    business_tz: str,
    shard: Shard = ALL_CUSTOMERS,
) -> DayPlan:
    """Expire what was never sent in time, decide every customer with open invoices (a customer a collector
    paused is skipped), audit every decision, and put the reminders in the outbox at most once each
    (cancelling those no longer wanted). With ``shard``: only its customers are decided and their rows
    written or cancelled (expiry is by time alone, the same whichever shard runs it)."""
    with ledger.begin_write(OUTBOX_LOCK) as connection:
        expired = expire_unsent(connection, now)
        inputs = plan_inputs(connection, day, now, business_tz=business_tz, horizon_days=contact_horizon(policy))
        plan = apply_pauses(plan_day(shard_inputs(inputs, shard), policy), paused_on(connection, day))
        record_decisions(connection, plan.decisions, run_id=run_id, policy_version=policy.version)
        written = write_plan(connection, plan, day, policy_version=policy.version, shard=shard)
    return DayPlan(day, plan.decisions, written, expired)


@dataclass(frozen=True)
class DayMessages:
    day: date
    rendered: pl.DataFrame
    """Of every message written, ``KEPT_COLUMNS`` and ``problems`` (the checks it failed); not their bodies."""
    cancelled: int
    people: pl.DataFrame
    """The recipients' contact details (for masking previews)."""
    samples: pl.DataFrame
    """One whole message per language and channel (for previews)."""

    def failing(self, check: str) -> pl.Series:
        """``outbox_id`` of the messages that failed ``check`` (held)."""
        return self.rendered.filter(pl.col("problems").list.contains(check))["outbox_id"]

    @property
    def held(self) -> int:
        return int((self.rendered["problems"].list.len() > 0).sum()) if self.rendered.height else 0

    def summary(self) -> dict[str, object]:
        channels = self.rendered["channel"] if self.rendered.height else pl.Series([], dtype=pl.String)
        return {
            "day": self.day.isoformat(),
            "rendered": self.rendered.height - self.held,
            "held": self.held,
            "cancelled": self.cancelled,
            **{name: int((channels == name).sum()) for name in CHANNEL_NAMES},
        }


def render_day(
    ledger: Ledger, policy: Policy, templates: Templates, signer: LinkSigner, day: date, now: datetime
) -> DayMessages:
    """Write the day's unsent messages in each customer's language after a last look at the ledger (nothing
    owed, no consented channel: cancelled), check each against the ledger as it is now, and hold those
    that fail a check; a chunk of messages at a time (``render_in_chunks``), so memory holds one chunk's bodies."""
    with ledger.begin_write(OUTBOX_LOCK) as connection:
        rows = messages_to_render(connection, day)
        people = contacts(connection, rows["customer_id"])
        lines = invoice_lines(connection, rows["invoice_ids"].explode())
        keep, owed, cancelled = triage(rows, lines, people, open_disputes(connection, now.date()))

        def check(rendered: pl.DataFrame) -> pl.DataFrame:
            balances = receivables.open_balances(connection, rendered["invoice_ids"].explode())
            return message_problems(rendered, rows, balances, people, policy)

        def write(rendered: pl.DataFrame) -> int:
            return write_messages(connection, rendered.with_columns(failed_checks().alias("problems")))

        written = render_in_chunks(keep, owed, RenderContext(policy, templates, signer, now), check, write)
        set_statuses(connection, rendering_outcomes(written.messages, cancelled))
    return DayMessages(day, written.messages, cancelled.height, people, written.samples)
