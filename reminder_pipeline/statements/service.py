"""A billing cycle day's statements of account: planned into the outbox, then written and checked.

Each function owns its transaction under the outbox lock, as the daily plan and rendering do, so a
statement run never interleaves with them and a crash leaves the ledger as it was. What follows is
the reminders' path: delivery claims the rendered rows when their window opens, takes the last look
(paid, disputed, opted out, already contacted that day) and sends each at most once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl

from reminder_pipeline.core.channels import CHANNEL_NAMES
from reminder_pipeline.core.outbox import OUTBOX_LOCK
from reminder_pipeline.core.policy.config import Policy
from reminder_pipeline.core.rendering.checks import message_problems
from reminder_pipeline.core.rendering.links import LinkSigner
from reminder_pipeline.core.rendering.outcomes import failed_checks, rendering_outcomes
from reminder_pipeline.core.rendering.templates import Templates
from reminder_pipeline.core.rendering.triage import triage
from reminder_pipeline.core.statements.lines import statement_lines
from reminder_pipeline.core.statements.plan import plan_statements
from reminder_pipeline.core.statements.render import StatementContext, render_statements
from reminder_pipeline.ledger import receivables
from reminder_pipeline.ledger.messages import messages_to_render, write_messages
from reminder_pipeline.ledger.outbox import set_statuses
from reminder_pipeline.ledger.planning import contacts, open_disputes
from reminder_pipeline.ledger.receivables import invoice_lines
from reminder_pipeline.ledger.statements import (
    StatementWrite,
    courtesy_rows,
    cycle_customers,
    statement_inputs,
    write_statements,
)
from reminder_pipeline.ledger.store import Ledger


@dataclass(frozen=True)
class DayStatements:
    day: date
    decisions: pl.DataFrame
    """Per cycle customer with something owed: ``channel``, ``send_on`` and its window, or a ``reason``."""
    written: StatementWrite
    rendered: int = 0
    held: int = 0
    cancelled: int = 0

    def summary(self) -> dict[str, object]:
        going = self.decisions.filter(pl.col("reason").is_null())
        skipped = self.decisions.filter(pl.col("reason").is_not_null())["reason"].value_counts()
        return {
            "day": self.day.isoformat(),
            "owing": self.decisions.height,
            "planned": going.height,
            **{f"by_{name}": int((going["channel"] == name).sum()) for name in CHANNEL_NAMES},
            "later_day": int((going["send_on"] > self.day).sum()),
            "outbox_added": self.written.inserted + self.written.revived,
            "outbox_unchanged": self.written.unchanged,
            "courtesy_folded": self.written.folded,
            "rendered": self.rendered,
            "held": self.held,
            "cancelled": self.cancelled,
            "skipped": {str(k): int(v) for k, v in skipped.iter_rows()},
        }


def plan_statements_day(
    ledger: Ledger, policy: Policy, day: date, now: datetime, *, business_tz: str
) -> tuple[pl.DataFrame, StatementWrite]:
    """Decide every cycle customer's statement and put it in the outbox at most once (folding in the day's
    courtesy note)."""
    with ledger.begin_write(OUTBOX_LOCK) as connection:
        inputs = statement_inputs(connection, day, now, business_tz=business_tz)
        plan = plan_statements(inputs, policy)
        written = write_statements(connection, plan, policy_version=policy.version)
    return plan.decisions, written


def render_statements_day(
    ledger: Ledger, policy: Policy, templates: Templates, signer: LinkSigner, day: date, now: datetime
) -> tuple[int, int, int]:
    """Write the day's unsent statements after a last look (nothing owed, no channel: cancelled), check each
    against the ledger as it is now, and hold those that fail a check: (rendered, held, cancelled)."""
    context = StatementContext(policy, templates, signer, now)
    with ledger.begin_write(OUTBOX_LOCK) as connection:
        rows = messages_to_render(connection, day, statements=True)
        people = contacts(connection, rows["customer_id"])
        lines = invoice_lines(connection, rows["invoice_ids"].explode())
        keep, owed, cancelled = triage(rows, lines, people, open_disputes(connection, now.date()))
        owed = owed.join(lines.select("invoice_id", "currency"), on="invoice_id", how="left")
        rendered = render_statements(keep, owed, context)
        balances = receivables.open_invoices(connection, receivables.ALL_TIME).select("invoice_id", "balance_minor")
        problems = message_problems(rendered, rows, balances, people, policy)
        rendered = rendered.join(problems, on="outbox_id", how="left")
        write_messages(connection, rendered.with_columns(failed_checks().alias("problems")))
        set_statuses(connection, rendering_outcomes(rendered, cancelled))
    held = int((rendered["problems"].list.len() > 0).sum()) if rendered.height else 0
    return rendered.height - held, held, cancelled.height


def statements_day(
    ledger: Ledger,
    policy: Policy,
    templates: Templates,
    signer: LinkSigner,
    day: date,
    now: datetime,
    *,
    business_tz: str,
) -> DayStatements:
    """The cycle day's statements planned, then written."""
    decisions, written = plan_statements_day(ledger, policy, day, now, business_tz=business_tz)
    rendered, held, cancelled = render_statements_day(ledger, policy, templates, signer, day, now)
    return DayStatements(day, decisions, written, rendered, held, cancelled)


@dataclass(frozen=True)
class CycleDay:
    """A cycle day of the statement run: its statements, and the archive's lines read once they are written."""

    statements: DayStatements
    lines: pl.DataFrame
    """Every open invoice of the cycle's customers on the day (``core.statements.lines.LINE_SCHEMA``)."""
    cycle_customers: int

    @property
    def day(self) -> date:
        return self.statements.day

    def figures(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "cycle_customers": self.cycle_customers,
            "with_open_invoices": self.lines["customer_id"].n_unique(),
            "open_invoices": self.lines.height,
            "new_invoices": int(self.lines["new_in_cycle"].sum()),
        }


def statement_run_day(
    ledger: Ledger,
    policy: Policy,
    templates: Templates,
    signer: LinkSigner,
    day: date,
    now: datetime,
    *,
    business_tz: str,
) -> CycleDay:
    """The cycle day's statements planned and written (:func:`statements_day`), then the lines of every open
    invoice of the cycle's customers as the ledger holds them afterwards, for the archive."""
    statements = statements_day(ledger, policy, templates, signer, day, now, business_tz=business_tz)
    with ledger.begin() as connection:
        cycle = cycle_customers(connection, day)
        open_now = receivables.open_invoices(connection, day)
        courtesy = courtesy_rows(connection, cycle["customer_id"])
    return CycleDay(statements, statement_lines(day, cycle, open_now, courtesy), cycle.height)
