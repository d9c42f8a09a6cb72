"""One arm's customers: what each invoice still owes, when its payments come, and how reminders move them.

Each arm (the pipeline, the fixed ladder, no reminders) has its own :class:`Accounts` over the same
world and the same dice. Payments are kept per invoice as planned instants (the unreminded ones first:
each installment on its day, at one of the moments customers act); a reminder that prompts a payment
moves the next one earlier (never later), or adds one when the invoice was never going to be paid.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import polars as pl

from reminder_pipeline.simulation.behaviour import (
    DISPUTE_WITHIN_DAYS,
    Dice,
    ReplyKind,
    ResponseModel,
    dispute_text,
    promise_text,
)
from reminder_pipeline.simulation.clock import CUSTOMER_TIMES, customer_slot_at, next_customer_slot
from reminder_pipeline.simulation.world import World


@dataclass(frozen=True)
class Payment:
    payment_id: str
    invoice_id: str
    customer_id: str
    amount_minor: int
    currency: str
    exponent: int
    paid_at: datetime
    prompted: bool

    @property
    def amount_text(self) -> str:
        """Major units with the currency's digits, as the payment webhook wants it."""
        if not self.exponent:
            return str(self.amount_minor)
        whole, fraction = divmod(self.amount_minor, 10**self.exponent)
        return f"{whole}.{fraction:0{self.exponent}d}"


@dataclass(frozen=True)
class Reply:
    customer_id: str
    channel: str
    kind: ReplyKind
    text: str
    at: datetime
    """When the customer sends it: the next moment customers act after hearing."""


@dataclass(frozen=True)
class Reached:
    """A reminder that reached its customer (delivered; a bounce reaches nobody)."""

    customer_id: str
    invoice_ids: tuple[str, ...]
    channel: str
    at: datetime
    before_due: bool


@dataclass
class _Invoice:
    invoice_id: str
    customer_id: str
    due_day: date
    amount: int
    currency: str
    exponent: int
    dispute_day: date | None
    paid: int = 0
    reminded: int = 0
    payments_made: int = 0
    planned: dict[int, tuple[datetime, int, bool]] = field(default_factory=dict)
    """Planned payments by token: (instant, amount, prompted)."""

    @property
    def balance(self) -> int:
        return self.amount - self.paid


class Accounts:
    def __init__(self, world: World, model: ResponseModel, dice: Dice) -> None:
        self.world, self.model, self.dice = world, model, dice
        self._tokens = itertools.count()
        self._due: list[tuple[datetime, int, str]] = []
        self.made: list[Payment] = []
        people = world.customers.select("customer_id", "reminder_sensitivity", "partial_payment_prob", "locale")
        self.sensitivity = dict(zip(people["customer_id"], people["reminder_sensitivity"], strict=True))
        self.partial = dict(zip(people["customer_id"], people["partial_payment_prob"], strict=True))
        self.locale = dict(zip(people["customer_id"], people["locale"], strict=True))
        self.invoices: dict[str, _Invoice] = {}
        self._texts_reached: dict[str, int] = {}
        self._load(world)

    def _load(self, world: World) -> None:
        start = customer_slot_at(world.first_day, 0)
        installments = world.installments.group_by("invoice_id", maintain_order=True).agg(
            pl.col("paid_date").alias("days"), pl.col("amount_minor").alias("amounts")
        )
        frame = world.invoices.join(installments, on="invoice_id", how="left")
        for row in frame.iter_rows(named=True):
            invoice = _Invoice(
                row["invoice_id"], row["customer_id"], row["due_date"], row["amount_minor"], row["currency"],
                row["exponent"], row["dispute_date"],
            )  # fmt: skip
            for index, (day, amount) in enumerate(zip(row["days"] or [], row["amounts"] or [], strict=True)):
                instant = customer_slot_at(day, int(self.dice("slot", invoice.invoice_id, index) * len(CUSTOMER_TIMES)))
                if instant < start:
                    invoice.paid += amount
                else:
                    self._plan(invoice, instant, amount, prompted=False)
            if invoice.balance > 0:
                self.invoices[invoice.invoice_id] = invoice

    def _plan(self, invoice: _Invoice, instant: datetime, amount: int, *, prompted: bool) -> None:
        token = next(self._tokens)
        invoice.planned[token] = (instant, amount, prompted)
        heapq.heappush(self._due, (instant, token, invoice.invoice_id))

    def payments_until(self, instant: datetime) -> list[Payment]:
        """Every payment made up to ``instant`` not yet returned, in time order."""
        made: list[Payment] = []
        while self._due and self._due[0][0] <= instant:
            at, token, invoice_id = heapq.heappop(self._due)
            invoice = self.invoices.get(invoice_id)
            planned = invoice.planned.pop(token, None) if invoice is not None else None
            if invoice is None or planned is None or invoice.balance <= 0:
                continue
            amount = min(planned[1], invoice.balance)
            invoice.paid += amount
            invoice.payments_made += 1
            payment = Payment(
                f"SIM-{invoice_id}-{invoice.payments_made}", invoice_id, invoice.customer_id, amount,
                invoice.currency, invoice.exponent, at, planned[2],
            )  # fmt: skip
            made.append(payment)
        self.made.extend(made)
        return made

    def is_open(self, invoice_id: str) -> bool:
        invoice = self.invoices.get(invoice_id)
        return invoice is not None and invoice.balance > 0

    def disputed(self, invoice: _Invoice, at: datetime) -> bool:
        return invoice.dispute_day is not None and invoice.dispute_day <= at.date()

    def reach(self, reached: Reached) -> list[Reply]:
        """What the customer does about a reminder that reached them: payments moved, replies to send."""
        replies: dict[ReplyKind, Reply] = {}
        answer_at = customer_slot_at(*next_customer_slot(reached.at))
        locale = self.locale.get(reached.customer_id)

        def reply(kind: ReplyKind, text: str) -> None:
            replies.setdefault(kind, Reply(reached.customer_id, reached.channel, kind, text, answer_at))

        for invoice_id in sorted(reached.invoice_ids):
            invoice = self.invoices.get(invoice_id)
            if invoice is None or invoice.balance <= 0 or self.disputed(invoice, reached.at):
                continue
            earlier, invoice.reminded = invoice.reminded, invoice.reminded + 1
            dispute_day = invoice.dispute_day
            if dispute_day is not None and dispute_day <= (reached.at + timedelta(days=DISPUTE_WITHIN_DAYS)).date():
                invoice.dispute_day = reached.at.date()
                reply(ReplyKind.DISPUTE, dispute_text(locale))
                continue
            sensitivity = self.sensitivity.get(invoice.customer_id, 0.0)
            effect = self.model.effect(sensitivity, reached.channel, earlier, reached.before_due)
            soonest = answer_at + timedelta(days=self.model.lag(self.dice("lag", invoice_id, earlier)))
            if self.dice("promises", invoice_id, earlier) < self.model.promise_share * effect:
                promised = self.model.promised_day(self.dice("promised", invoice_id, earlier), answer_at.date())
                reply(ReplyKind.PROMISE, promise_text(locale, promised))
                if self.dice("kept", invoice_id, earlier) < self.model.promise_kept:
                    self._sooner(invoice, customer_slot_at(promised, int(self.dice("slot", invoice_id, "promise") * 4)))
            self._respond(invoice, effect, soonest, self.dice("converted", invoice_id, earlier) < effect)
        if reached.channel == "sms":
            texts = self._texts_reached.get(reached.customer_id, 0)
            self._texts_reached[reached.customer_id] = texts + 1
            # By the count of texts, not their instant: ``accepted_at`` carries the real seconds a delivery run took.
            if self.dice("stop", reached.customer_id, texts) < self.model.stop_rate:
                replies[ReplyKind.STOP] = Reply(reached.customer_id, "sms", ReplyKind.STOP, "STOP", answer_at)
        return list(replies.values())

    def _next(self, invoice: _Invoice) -> int | None:
        return min(invoice.planned, key=lambda t: invoice.planned[t][0]) if invoice.planned else None

    def _respond(self, invoice: _Invoice, effect: float, soonest: datetime, converted: bool) -> None:
        """The generator's model, in time: the late part of the next payment shrinks by ``effect``, never
        sooner than ``soonest``; an invoice never to be paid (or not in full) is paid when ``converted``."""
        token = self._next(invoice)
        if token is None:
            if converted:
                in_parts = self.dice("in parts", invoice.invoice_id) < self.partial.get(invoice.customer_id, 0.0)
                share = invoice.balance // 2 if in_parts and invoice.balance > 1 else invoice.balance
                self._plan(invoice, soonest, share, prompted=True)
            return
        when = invoice.planned[token][0]
        due = datetime.combine(invoice.due_day, time(), tzinfo=UTC)
        if when <= due:
            return
        shrunk = due + (when - due) * (1.0 - effect)
        self._sooner(invoice, customer_slot_at(*next_customer_slot(max(shrunk, soonest) - timedelta(microseconds=1))))

    def _sooner(self, invoice: _Invoice, at: datetime) -> None:
        """The invoice's next payment comes at ``at`` if it was to come later."""
        token = self._next(invoice)
        if token is None:
            self._plan(invoice, at, invoice.balance, prompted=True)
            return
        when, amount, _ = invoice.planned[token]
        if when > at:
            del invoice.planned[token]
            self._plan(invoice, at, amount, prompted=True)

    def paid_frame(self) -> pl.DataFrame:
        """Every payment made so far: ``invoice_id, paid_at, amount_minor, prompted``."""
        return pl.DataFrame(
            {
                "invoice_id": [p.invoice_id for p in self.made],
                "paid_at": [p.paid_at for p in self.made],
                "amount_minor": [p.amount_minor for p in self.made],
                "prompted": [p.prompted for p in self.made],
            },
            schema={
                "invoice_id": pl.String,
                "paid_at": pl.Datetime("us", "UTC"),
                "amount_minor": pl.Int64,
                "prompted": pl.Boolean,
            },
        )
