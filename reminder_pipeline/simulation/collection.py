"""Collection figures per arm: days sales outstanding, collected within 30 days, messages and their cost.

All money is added up in USD at the demo's exchange rates, over the invoices the ledger accepted (the
ones any arm could remind about):

- ``dso``: days sales outstanding over the simulated days — the average of each day's receivables
  (what is owed at the end of the day, old debt included) divided by the average day's invoicing;
- ``collected_within_30_days``: of the invoices due in the first days (those whose due date is 30 days
  or more before the last day), the share of their amount paid within 30 days of the due date;
- ``collected_usd``: paid during the simulated days;
- ``messages``, ``messages_per_collected_invoice`` (messages handed to a provider ÷ invoices paid in full
  during the simulated days) and ``message_cost_usd``: an email at :data:`EMAIL_PRICE_USD`, an SMS
  segment at :data:`SMS_SEGMENT_PRICE_USD` (the fixed ladder's SMS at the pipeline's mean segments);
- ``statements``: of the messages, the statements of account the billing-cycle schedule sent (the fixed
  ladder and no reminders send none; ``fixed_ladder_with_statements`` and ``statements_only`` send them as
  the pipeline's schedule would), and ``reminders``: the rest, ``messages - statements``.

``like_for_like`` sets the pipeline beside the fixed ladder with the same statements: the difference in
each collection figure, the reminders each sent, and whether the pipeline collected at least as much
(within 30 days of due and in money) with fewer reminders.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import polars as pl
from sqlalchemy import select

from reminder_pipeline.core.outbox import STATEMENT_LADDER
from reminder_pipeline.ledger.schema import invoices as invoice_table
from reminder_pipeline.ledger.schema import outbox
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.simulation.accounts import Accounts, Reached
from reminder_pipeline.simulation.audit_tables import message_log
from reminder_pipeline.simulation.baselines import Arm, Sent
from reminder_pipeline.simulation.behaviour import BIT_NO_TEXT, BIT_PERSONALISED_TEXT, Dice, ResponseModel
from reminder_pipeline.simulation.world import USD_PER_UNIT, World

EMAIL_PRICE_USD = 0.001
"""About SendGrid's price per email on a Pro plan (USD 89.95 for 100,000 a month)."""
SMS_SEGMENT_PRICE_USD = 0.0083
"""Twilio's list price for one outbound SMS segment in the US."""
COLLECTED_WITHIN_DAYS = 30
TRIAL_OVERDUE_DAYS = 21
TRIAL_WINDOW_DAYS = 14


def _usd(world: World) -> pl.DataFrame:
    """``invoice_id, issue_date, due_date, amount_usd, usd_per_minor`` of the invoices the figures cover."""
    rate = pl.col("currency").replace_strict(USD_PER_UNIT, default=0.0) / pl.lit(10.0).pow(pl.col("exponent"))
    return world.invoices.select(
        "invoice_id",
        "issue_date",
        "due_date",
        (pl.col("amount_minor") * rate).alias("amount_usd"),
        rate.alias("per_minor"),
    )


def _figures(
    world: World, covered: pl.DataFrame, paid: pl.DataFrame, messages: pl.DataFrame, sms_segments: float
) -> dict[str, Any]:
    days = world.days
    start = datetime.combine(world.first_day, time(), tzinfo=UTC)
    payments = paid.join(covered.select("invoice_id", "per_minor"), on="invoice_id").with_columns(
        (pl.col("amount_minor") * pl.col("per_minor")).alias("usd"), pl.col("paid_at").dt.date().alias("day")
    )
    before = world.installments.join(covered.select("invoice_id", "per_minor"), on="invoice_id").filter(
        pl.col("paid_date") < world.first_day
    )
    owed_at_start = float(covered.filter(pl.col("issue_date") < world.first_day)["amount_usd"].sum()) - float(
        (before["amount_minor"] * before["per_minor"]).sum()
    )
    issued = covered.filter(pl.col("issue_date") >= world.first_day)
    receivables = []
    for day in days:
        billed = float(issued.filter(pl.col("issue_date") <= day)["amount_usd"].sum())
        collected = float(payments.filter(pl.col("day") <= day)["usd"].sum())
        receivables.append(owed_at_start + billed - collected)
    daily_sales = float(issued["amount_usd"].sum()) / len(days)
    cohort = covered.filter(
        (pl.col("due_date") >= world.first_day)
        & (pl.col("due_date") <= world.last_day - timedelta(days=COLLECTED_WITHIN_DAYS))
    )
    on_time = payments.join(cohort.select("invoice_id", "due_date"), on="invoice_id").filter(
        pl.col("day") <= pl.col("due_date") + pl.duration(days=COLLECTED_WITHIN_DAYS)
    )
    settled = payments.filter(pl.col("paid_at") >= start).group_by("invoice_id").agg(pl.col("amount_minor").sum())
    balances = world.invoices.select("invoice_id", "amount_minor")
    before_by_invoice = before.group_by("invoice_id").agg(pl.col("amount_minor").sum().alias("before"))
    paid_in_full = (
        settled.join(balances, on="invoice_id", suffix="_owed")
        .join(before_by_invoice, on="invoice_id", how="left")
        .filter(pl.col("amount_minor") + pl.col("before").fill_null(0) >= pl.col("amount_minor_owed"))
        .height
    )
    emails = messages.filter(pl.col("channel") == "email").height
    sms = messages.filter(pl.col("channel") == "sms").height
    statements = int(messages["statement"].sum()) if "statement" in messages.columns else 0
    cohort_amount = float(cohort["amount_usd"].sum())
    return {
        "dso": round(sum(receivables) / len(receivables) / daily_sales, 1) if daily_sales else None,
        "collected_within_30_days": round(float(on_time["usd"].sum()) / cohort_amount, 4) if cohort_amount else None,
        "collected_usd": round(float(payments["usd"].sum()), 2),
        "invoices_paid_in_full": paid_in_full,
        "messages": emails + sms,
        "emails": emails,
        "sms": sms,
        "statements": statements,
        "reminders": emails + sms - statements,
        "messages_per_collected_invoice": round((emails + sms) / paid_in_full, 3) if paid_in_full else None,
        "message_cost_usd": round(emails * EMAIL_PRICE_USD + sms * sms_segments * SMS_SEGMENT_PRICE_USD, 2),
        "cohort_due_invoices": cohort.height,
    }


def _ledger_invoices(ledger: Ledger) -> pl.DataFrame:
    with ledger.begin() as connection:
        ids = [r[0] for r in connection.execute(select(invoice_table.c.invoice_id))]
    return pl.DataFrame({"invoice_id": ids}, schema={"invoice_id": pl.String})


def _statement_keys(ledger: Ledger) -> pl.Series:
    with ledger.begin() as connection:
        keys = [
            r[0] for r in connection.execute(select(outbox.c.dedupe_key).where(outbox.c.ladder == STATEMENT_LADDER))
        ]
    return pl.Series("reminder_key", keys, dtype=pl.String)


def _sms_segments(ledger: Ledger) -> float:
    from reminder_pipeline.ledger.schema import reminder_messages

    with ledger.begin() as connection:
        values = [
            r[0]
            for r in connection.execute(
                select(reminder_messages.c.sms_segments).where(reminder_messages.c.channel == "sms")
            )
        ]
    known = [v for v in values if v]
    return sum(known) / len(known) if known else 1.0


def collection_figures(
    world: World, ledger: Ledger, pipeline: Accounts, messages: list[dict[str, Any]], baselines: dict[str, Arm]
) -> dict[str, Any]:
    covered = _usd(world).join(_ledger_invoices(ledger), on="invoice_id", how="semi")
    segments = _sms_segments(ledger)
    log = message_log(messages).select(
        "channel", pl.col("reminder_key").is_in(_statement_keys(ledger).implode()).alias("statement")
    )
    arms = {"pipeline": _figures(world, covered, pipeline.paid_frame(), log, segments)}
    for name, arm in baselines.items():
        arms[name] = _figures(world, covered, arm.accounts.paid_frame(), _sent_frame(arm.messages), segments)
    return arms | {
        "like_for_like": like_for_like(arms["pipeline"], arms["fixed_ladder_with_statements"]),
        "prices_usd": {
            "email": EMAIL_PRICE_USD,
            "sms_segment": SMS_SEGMENT_PRICE_USD,
            "sms_segments_each": round(segments, 2),
        },
    }


def _sent_frame(messages: list[Sent]) -> pl.DataFrame:
    return pl.DataFrame(
        {"channel": [m.channel for m in messages], "statement": [m.statement for m in messages]},
        schema={"channel": pl.String, "statement": pl.Boolean},
    )


def like_for_like(pipeline: dict[str, Any], ladder: dict[str, Any]) -> dict[str, Any]:
    """The pipeline against the fixed ladder that sends the same statements of account: the reminders compared."""
    within = pipeline["collected_within_30_days"], ladder["collected_within_30_days"]
    points = round(100 * (within[0] - within[1]), 2) if None not in within else None
    money = (
        round(100 * (pipeline["collected_usd"] / ladder["collected_usd"] - 1), 2) if ladder["collected_usd"] else None
    )
    fewer = ladder["reminders"] - pipeline["reminders"]
    return {
        "against": "fixed_ladder_with_statements",
        "dso_days": round(pipeline["dso"] - ladder["dso"], 1) if None not in (pipeline["dso"], ladder["dso"]) else None,
        "collected_within_30_days_points": points,
        "collected_usd_percent": money,
        "reminders": pipeline["reminders"],
        "ladder_reminders": ladder["reminders"],
        "fewer_reminders_percent": round(100 * fewer / ladder["reminders"], 1) if ladder["reminders"] else None,
        "pipeline_wins": points is not None and money is not None and points >= 0 and money >= 0 and fewer > 0,
    }


def trial_analogue(world: World, model: ResponseModel, dice: Dice) -> dict[str, float]:
    """The Behavioural Insights Team's court-fine trial, replayed in this world: invoices at least 21 days
    overdue on the first day, unpaid and undisputed; the share that paid (all or a part) within 14 days
    without a text, and with one SMS that reached them that morning (every other reminder left out)."""
    at = datetime.combine(world.first_day, time(10), tzinfo=UTC)
    end = at + timedelta(days=TRIAL_WINDOW_DAYS)
    shares = []
    for texted in (False, True):
        accounts = Accounts(world, model, dice)
        chosen = [
            i
            for i in accounts.invoices.values()
            if (world.first_day - i.due_day).days >= TRIAL_OVERDUE_DAYS and not accounts.disputed(i, at)
        ]
        if texted:
            for invoice in chosen:
                accounts.reach(Reached(invoice.customer_id, (invoice.invoice_id,), "sms", at, before_due=False))
        paid = {p.invoice_id for p in accounts.payments_until(end)}
        shares.append(
            sum(1 for i in chosen if i.invoice_id in paid and not accounts.is_open(i.invoice_id)) / max(len(chosen), 1)
        )
    without, with_text = shares
    return {
        "invoices": float(len(chosen)),
        "paid_without_text": round(without, 3),
        "paid_with_text": round(with_text, 3),
        "converted": round((with_text - without) / (1 - without), 3) if without < 1 else 0.0,
        "trial_converted": round((BIT_PERSONALISED_TEXT - BIT_NO_TEXT) / (1 - BIT_NO_TEXT), 3),
    }
