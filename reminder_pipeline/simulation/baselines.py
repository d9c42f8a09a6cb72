"""The arms the pipeline is measured against, in the same world, with the same response model and dice.

- **no reminders**: every invoice is paid as the generator drew it;
- **fixed ladder**: a reminder 1, 7 and 14 days after each invoice's due date, to everyone, on the
  customer's preferred channel (the other one when that one cannot be used), one message per invoice,
  stopping only when the invoice is paid or the billing system shows it disputed — no risk score, no
  courtesy note, no caps or quiet days, no grouping of a customer's invoices, promises not listened
  to; a STOP reply is honoured (the law requires it). Its emails bounce and its SMS go undelivered at
  the sandbox's rates, and an outage of the pipeline stops it too (what fell due then is not sent);
- **the same with statements of account** (``fixed_ladder_with_statements``, ``statements_only``): a
  business sends its monthly statements whatever its dunning does, so these arms get the pipeline's
  statement schedule played out in their own accounts — on each customer's billing cycle day (the
  first weekday from it), to every customer of the cycle owing something undisputed in that arm, one
  message listing every such invoice, by email, else by SMS when the policy sends SMS summaries; none
  for a cycle day or a sending day the outage took. The pipeline also spaces statements by its rules of
  contact; these arms do not, as their ladder does not.

They are simulated directly (no pipeline, no sandbox): the response model only needs to know which
message reached whom, when.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from reminder_pipeline.core.policy.config import StatementSms
from reminder_pipeline.core.statements.cycles import cycle_date
from reminder_pipeline.simulation.accounts import Accounts, Reached
from reminder_pipeline.simulation.behaviour import Dice, ReplyKind, ResponseModel
from reminder_pipeline.simulation.world import World

LADDER_OFFSETS = (1, 7, 14)
SEND_TIME = time(10)
WEEKEND = 5
"""``date.weekday()`` from Saturday on."""


@dataclass(frozen=True)
class Sent:
    """A message handed to a provider: a ladder step about one invoice, or a statement of account."""

    channel: str
    customer_id: str
    invoice_ids: tuple[str, ...]
    at: datetime
    statement: bool = False


@dataclass
class Arm:
    name: str
    accounts: Accounts
    messages: list[Sent] = field(default_factory=list)


@dataclass(frozen=True)
class Losses:
    """The shares of messages that reach nobody: bounced emails, undelivered SMS (the sandbox's rates)."""

    bounce_rate: float
    undelivered_rate: float

    def lost(self, channel: str, draw: float) -> bool:
        return draw < (self.bounce_rate if channel == "email" else self.undelivered_rate)


def _channels(world: World) -> dict[str, tuple[str, ...]]:
    """Per customer, the channels a reminder may use, the preferred one first."""
    usable: dict[str, tuple[str, ...]] = {}
    for row in world.customers.iter_rows(named=True):
        email = bool(row["email"]) and not row["email_opt_out"]
        sms = bool(row["phone"]) and bool(row["sms_consent"]) and not row["sms_opt_out"]
        options = [c for c, ok in (("email", email), ("sms", sms)) if ok]
        if row["preferred_channel"] == "sms":
            options.reverse()
        usable[row["customer_id"]] = tuple(options)
    return usable


def no_reminders(world: World, model: ResponseModel, dice: Dice) -> Arm:
    accounts = Accounts(world, model, dice)
    accounts.payments_until(_end(world))
    return Arm("no_reminders", accounts)


def _ladder_steps(world: World, down: tuple[date, ...]) -> dict[date, list[tuple[str, int]]]:
    """Per day, the (invoice, offset) of the ladder's steps that fall on it."""
    steps: dict[date, list[tuple[str, int]]] = defaultdict(list)
    for invoice_id, due_day in world.invoices.select("invoice_id", "due_date").iter_rows():
        for offset in LADDER_OFFSETS:
            day = due_day + timedelta(days=offset)
            if world.first_day <= day <= world.last_day and day not in down:
                steps[day].append((invoice_id, offset))
    return steps


def _statement_days(world: World, down: tuple[date, ...]) -> dict[date, list[str]]:
    """Per sending day, the customers whose billing cycle day it is (or the weekend before it was)."""
    months = sorted({(d.year, d.month) for d in world.days})
    days: dict[date, list[str]] = defaultdict(list)
    for customer_id, cycle_day in world.customers.select("customer_id", "billing_cycle_day").iter_rows():
        if not cycle_day:
            continue
        for year, month in months:
            cycle = cycle_date(int(cycle_day), year, month)
            send = cycle + timedelta(days=max(0, 7 - cycle.weekday()) if cycle.weekday() >= WEEKEND else 0)
            if world.first_day <= cycle and send <= world.last_day and cycle not in down and send not in down:
                days[send].append(customer_id)
    return days


class _Sender:
    """One arm's messages day by day: the statements of the day, then the ladder's steps, all at 10:00 UTC."""

    def __init__(self, arm: Arm, world: World, dice: Dice, losses: Losses) -> None:
        self.arm, self.world, self.dice, self.losses = arm, world, dice, losses
        self.accounts = arm.accounts
        self.usable = _channels(world)
        self.stopped: set[str] = set()
        self.billed: dict[str, list[tuple[date, str]]] = defaultdict(list)
        """Per customer, (issue date, invoice) of the invoices open on the first day or issued since."""
        for invoice_id, customer_id, issued in world.invoices.select(
            "invoice_id", "customer_id", "issue_date"
        ).iter_rows():
            if invoice_id in self.accounts.invoices:
                self.billed[customer_id].append((issued, invoice_id))

    def run(
        self,
        steps: dict[date, list[tuple[str, int]]],
        statement_days: dict[date, list[str]],
        statements: StatementSms,
    ) -> Arm:
        for day in sorted(set(steps) | set(statement_days)):
            at = datetime.combine(day, SEND_TIME, tzinfo=UTC)
            self.accounts.payments_until(at)
            for customer_id in sorted(statement_days.get(day, ())):
                self._statement(customer_id, at, statements)
            for invoice_id, offset in sorted(steps.get(day, ())):
                self._step(invoice_id, offset, at)
        self.accounts.payments_until(_end(self.world))
        return self.arm

    def _statement(self, customer_id: str, at: datetime, sms: StatementSms) -> None:
        """Every invoice issued by then that the customer owes undisputed, by email, else by an SMS summary when the
        policy sends one."""
        accounts = self.accounts
        owed = tuple(
            i
            for issued, i in sorted(self.billed[customer_id], key=lambda b: b[1])
            if issued <= at.date() and accounts.is_open(i) and not accounts.disputed(accounts.invoices[i], at)
        )
        usable = self._usable(customer_id)
        channel = "email" if "email" in usable else ("sms" if sms is StatementSms.SUMMARY and "sms" in usable else None)
        if owed and channel:
            self._send(Sent(channel, customer_id, owed, at, statement=True), ("statement", customer_id, at.date()))

    def _step(self, invoice_id: str, offset: int, at: datetime) -> None:
        """The ladder's step for one open, undisputed invoice, on the customer's preferred channel usable."""
        invoice = self.accounts.invoices.get(invoice_id)
        if invoice is None or not self.accounts.is_open(invoice_id) or self.accounts.disputed(invoice, at):
            return
        usable = self._usable(invoice.customer_id)
        if usable:
            self._send(Sent(usable[0], invoice.customer_id, (invoice_id,), at), (invoice_id, offset))

    def _usable(self, customer_id: str) -> tuple[str, ...]:
        """The customer's usable channels, the preferred one first, SMS not after a STOP."""
        return tuple(c for c in self.usable.get(customer_id, ()) if c != "sms" or customer_id not in self.stopped)

    def _send(self, sent: Sent, fate: tuple[object, ...]) -> None:
        self.arm.messages.append(sent)
        if self.losses.lost(sent.channel, self.dice("fate", *fate)):
            return
        reached = Reached(sent.customer_id, sent.invoice_ids, sent.channel, sent.at, before_due=False)
        for reply in self.accounts.reach(reached):
            if reply.kind is ReplyKind.STOP:
                self.stopped.add(sent.customer_id)


def _end(world: World) -> datetime:
    return datetime.combine(world.last_day + timedelta(days=1), time(), tzinfo=UTC) - timedelta(microseconds=1)


def run_baselines(
    world: World,
    model: ResponseModel,
    dice: Dice,
    losses: Losses,
    statements: StatementSms,
    down: tuple[date, ...] = (),
) -> dict[str, Arm]:
    """Every arm but the pipeline. On the ``down`` days (the pipeline's outage, if any) they send nothing either;
    ``statements`` is the policy's rule for the statements of customers reachable only by SMS."""
    steps, cycles = _ladder_steps(world, down), _statement_days(world, down)

    def sending(name: str, ladder: dict[date, list[tuple[str, int]]], cycle: dict[date, list[str]]) -> Arm:
        return _Sender(Arm(name, Accounts(world, model, dice)), world, dice, losses).run(ladder, cycle, statements)

    return {
        "fixed_ladder": sending("fixed_ladder", steps, {}),
        "no_reminders": no_reminders(world, model, dice),
        "fixed_ladder_with_statements": sending("fixed_ladder_with_statements", steps, cycles),
        "statements_only": sending("statements_only", {}, cycles),
    }
