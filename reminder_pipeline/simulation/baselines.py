"""The two arms the pipeline is measured against, in the same world, with the same response model and dice.

- **no reminders**: every invoice is paid as the generator drew it;
- **fixed ladder**: a reminder 1, 7 and 14 days after each invoice's due date, to everyone, on the
  customer's preferred channel (the other one when that one cannot be used), one message per invoice,
  stopping only when the invoice is paid or the billing system shows it disputed — no risk score, no
  courtesy note, no caps or quiet days, no grouping of a customer's invoices, promises not listened
  to; a STOP reply is honoured (the law requires it). Its emails bounce and its SMS go undelivered at
  the sandbox's rates, and an outage of the pipeline stops it too (what fell due then is not sent).

Both are simulated directly (no pipeline, no sandbox): the response model only needs to know which
reminder reached whom, when.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from reminder_pipeline.simulation.accounts import Accounts, Reached
from reminder_pipeline.simulation.behaviour import Dice, ReplyKind, ResponseModel
from reminder_pipeline.simulation.world import World

LADDER_OFFSETS = (1, 7, 14)
SEND_TIME = time(10)


@dataclass
class Arm:
    name: str
    accounts: Accounts
    messages: list[tuple[str, str, str, datetime]] = field(default_factory=list)
    """(channel, customer_id, invoice_id, sent at) of every message handed to a provider."""


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


def fixed_ladder(
    world: World,
    model: ResponseModel,
    dice: Dice,
    bounce_rate: float,
    undelivered_rate: float,
    down: tuple[date, ...] = (),
) -> Arm:
    """The fixed ladder; on the ``down`` days (the pipeline's outage, if any) it sends nothing either."""
    accounts = Accounts(world, model, dice)
    arm = Arm("fixed_ladder", accounts)
    usable = _channels(world)
    stopped: set[str] = set()
    steps: dict[date, list[tuple[str, int]]] = {}
    for invoice_id, invoice in accounts.invoices.items():
        for offset in LADDER_OFFSETS:
            day = invoice.due_day + timedelta(days=offset)
            if world.first_day <= day <= world.last_day and day not in down:
                steps.setdefault(day, []).append((invoice_id, offset))
    for day in sorted(steps):
        at = datetime.combine(day, SEND_TIME, tzinfo=UTC)
        accounts.payments_until(at)
        for invoice_id, offset in sorted(steps[day]):
            invoice = accounts.invoices[invoice_id]
            if not accounts.is_open(invoice_id) or accounts.disputed(invoice, at):
                continue
            options = [
                c for c in usable.get(invoice.customer_id, ()) if c != "sms" or invoice.customer_id not in stopped
            ]
            if not options:
                continue
            channel = options[0]
            arm.messages.append((channel, invoice.customer_id, invoice_id, at))
            lost = bounce_rate if channel == "email" else undelivered_rate
            if dice("fate", invoice_id, offset) < lost:
                continue
            for reply in accounts.reach(Reached(invoice.customer_id, (invoice_id,), channel, at, before_due=False)):
                if reply.kind is ReplyKind.STOP:
                    stopped.add(invoice.customer_id)
    accounts.payments_until(_end(world))
    return arm


def _end(world: World) -> datetime:
    return datetime.combine(world.last_day + timedelta(days=1), time(), tzinfo=UTC) - timedelta(microseconds=1)


def run_baselines(
    world: World,
    model: ResponseModel,
    dice: Dice,
    bounce_rate: float,
    undelivered_rate: float,
    down: tuple[date, ...] = (),
) -> dict[str, Arm]:
    return {
        "fixed_ladder": fixed_ladder(world, model, dice, bounce_rate, undelivered_rate, down),
        "no_reminders": no_reminders(world, model, dice),
    }
