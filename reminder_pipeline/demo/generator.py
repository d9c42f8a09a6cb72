"""Deterministic demo billing data: customers, monthly invoices, payments and the hidden behaviour truth.

Everything is drawn with numpy from one seed and formatted with polars, vectorised over invoices and
payments. The frames carry text exactly as a billing system's CSV export would (empty fields are null),
including a small share of deliberately bad rows that ingestion is expected to quarantine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from reminder_pipeline.core.canonical import INVOICE_SCHEMA
from reminder_pipeline.demo import export
from reminder_pipeline.demo.behaviour import BEHAVIOURS, CustomerParameters
from reminder_pipeline.demo.customers import Customers, draw_customers
from reminder_pipeline.demo.days import EPOCH, NO_DAY
from reminder_pipeline.demo.defects import (
    INVALID_CURRENCIES,
    INVOICE_DEFECTS,
    PAYMENT_DEFECTS,
    defect_counts,
    dirty_customers,
    malformed_date,
    split_chosen,
)
from reminder_pipeline.demo.outcomes import Outcomes, simulate_outcomes
from reminder_pipeline.demo.schedule import Schedule, draw_schedule

INVOICE_COLUMNS = INVOICE_SCHEMA.columns
PAYMENT_COLUMNS = ("payment_id", "invoice_id", "amount", "currency", "paid_date")
TRUTH_COLUMNS = (
    "customer_id",
    "behaviour",
    "mean_days_late",
    "reminder_sensitivity",
    "partial_payment_prob",
    "dispute_prob",
    "never_pay_prob",
)


@dataclass(frozen=True)
class DemoData:
    """Demo tables as text frames (what a CSV export carries) plus ``truth``, the hidden behaviour per customer."""

    customers: pl.DataFrame
    invoices: pl.DataFrame
    payments: pl.DataFrame
    truth: pl.DataFrame


def generate_demo_data(
    n_invoices: int,
    *,
    seed: int,
    start: date,
    end: date,
    dirty_rate: float = 0.01,
) -> DemoData:
    """About ``n_invoices`` invoice rows (dirty duplicates included) issued between ``start`` and ``end``.

    The result depends only on the arguments. ``dirty_rate`` is the approximate share of bad rows per
    table (at least one of each kind when positive); 0 gives clean data only. Malformed dates are put in
    ``due_date`` only, so every row keeps a valid day to be delivered on.
    """
    if n_invoices < 1:
        raise ValueError("n_invoices must be at least 1")
    if end < start:
        raise ValueError("end must not be before start")
    if not 0.0 <= dirty_rate <= 0.5:
        raise ValueError("dirty_rate must be between 0 and 0.5")
    schedule_rng, customer_rng, outcome_rng, dirty_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
    )
    start_day, end_day = (start - EPOCH).days, (end - EPOCH).days
    invoice_defects = defect_counts(dirty_rate, n_invoices, len(INVOICE_DEFECTS))
    appended = (
        invoice_defects[INVOICE_DEFECTS.index("conflicting_duplicate")]
        + invoice_defects[INVOICE_DEFECTS.index("identical_duplicate")]
    )
    clean_invoices = max(1, n_invoices - appended)
    schedule = draw_schedule(schedule_rng, clean_invoices, start_day, end_day)
    customers = draw_customers(customer_rng, schedule)
    outcomes = simulate_outcomes(outcome_rng, schedule, customers, end_day)
    invoice_counts = np.bincount(schedule.invoice_customer, minlength=schedule.behaviour.size)
    return DemoData(
        customers=dirty_customers(dirty_rng, customers.frame, invoice_counts, dirty_rate),
        invoices=_invoice_frame(dirty_rng, schedule, customers, outcomes, invoice_defects),
        payments=_payment_frame(dirty_rng, schedule, customers, outcomes, dirty_rate),
        truth=_truth_frame(customers.parameters),
    )


def _invoice_frame(
    rng: np.random.Generator,
    schedule: Schedule,
    customers: Customers,
    outcomes: Outcomes,
    defects_per_kind: list[int],
) -> pl.DataFrame:
    size = schedule.issue_day.size
    kind = {name: code for code, name in enumerate(INVOICE_DEFECTS, start=1)}
    chosen = dict(zip(INVOICE_DEFECTS, split_chosen(rng, np.arange(size), defects_per_kind), strict=True))
    conflicting, identical = chosen["conflicting_duplicate"], chosen["identical_duplicate"]
    rows = np.concatenate([np.arange(size), conflicting, identical])
    defect = np.zeros(rows.size, dtype=np.int8)
    for name in ("invalid_currency", "negative_amount", "due_before_issue", "invalid_date", "unknown_customer"):
        defect[chosen[name]] = kind[name]
    defect[size : size + conflicting.size] = kind["conflicting_duplicate"]
    defect[size + conflicting.size :] = kind["identical_duplicate"]

    customer = schedule.invoice_customer[rows]
    currency = customers.currency[customer].copy()
    exponent = customers.exponent[customer]
    issue_day = schedule.issue_day[rows]
    due_day = outcomes.due_day[rows].copy()
    amount = outcomes.amount_minor[rows].copy()
    paid_day = outcomes.paid_day[rows]
    paid_amount = np.where(paid_day != NO_DAY, amount, 0)

    def has_defect(name: str) -> np.ndarray:
        return defect == kind[name]

    currency[has_defect("invalid_currency")] = np.array(INVALID_CURRENCIES, dtype=object)[
        rng.integers(0, len(INVALID_CURRENCIES), int(has_defect("invalid_currency").sum()))
    ]
    amount[has_defect("negative_amount")] *= -1
    due_day[has_defect("due_before_issue")] = issue_day[has_defect("due_before_issue")] - rng.integers(
        1, 31, int(has_defect("due_before_issue").sum())
    )
    customer = np.where(
        has_defect("unknown_customer"), schedule.behaviour.size + rng.integers(0, 50_000, rows.size), customer
    )
    bump = np.maximum(1, np.rint(np.abs(amount) * rng.uniform(0.05, 0.5, rows.size))).astype(np.int64)
    amount = np.where(has_defect("conflicting_duplicate"), amount + bump, amount)

    order = np.argsort(rows, kind="stable")
    frame = pl.DataFrame(
        {
            "invoice_id": export.ids("INV-", rows[order] + 1, export.INVOICE_ID_DIGITS),
            "customer_id": export.ids("C", customer[order] + 1, export.CUSTOMER_ID_DIGITS),
            "issue_date": export.date_text(issue_day[order]),
            "due_date": export.date_text(due_day[order]),
            "_amount": amount[order],
            "currency": export.text(currency[order]),
            "paid_date": export.date_text(paid_day[order]),
            "_paid_amount": paid_amount[order],
            "disputed": export.booleans(outcomes.disputed[rows][order]),
            "dispute_date": export.date_text(outcomes.dispute_day[rows][order]),
            "_exponent": exponent[order],
            "_invalid_date": has_defect("invalid_date")[order],
            "_variant": rng.integers(0, 4, rows.size)[order],
        }
    )
    return frame.with_columns(
        export.money_text(pl.col("_amount"), pl.col("_exponent")).alias("amount"),
        pl.when(pl.col("paid_date").is_not_null())
        .then(export.money_text(pl.col("_paid_amount"), pl.col("_exponent")))
        .alias("paid_amount"),
        pl.when(pl.col("_invalid_date"))
        .then(malformed_date(pl.col("due_date"), pl.col("_variant")))
        .otherwise(pl.col("due_date"))
        .alias("due_date"),
    ).select(INVOICE_COLUMNS)


def _payment_frame(
    rng: np.random.Generator,
    schedule: Schedule,
    customers: Customers,
    outcomes: Outcomes,
    dirty_rate: float,
) -> pl.DataFrame:
    size = outcomes.payment_invoice.size
    unknown, zero = split_chosen(rng, np.arange(size), defect_counts(dirty_rate, size, len(PAYMENT_DEFECTS)))
    rows = np.concatenate([np.arange(size), unknown, zero])
    invoice = outcomes.payment_invoice[rows]
    customer = schedule.invoice_customer[invoice]
    invoice_number = invoice + 1
    invoice_number[size : size + unknown.size] = schedule.issue_day.size + 1 + rng.integers(0, 100_000, unknown.size)
    amount = outcomes.payment_amount_minor[rows].copy()
    amount[size + unknown.size :] = 0
    day = outcomes.payment_day[rows]
    appended = np.arange(rows.size) >= size
    order = np.lexsort((appended, outcomes.payment_installment[rows], invoice, day))
    frame = pl.DataFrame(
        {
            "payment_id": export.ids("PAY-", np.arange(1, rows.size + 1), export.PAYMENT_ID_DIGITS),
            "invoice_id": export.ids("INV-", invoice_number[order], export.INVOICE_ID_DIGITS),
            "_amount": amount[order],
            "_exponent": customers.exponent[customer][order],
            "currency": export.text(customers.currency[customer][order]),
            "paid_date": export.date_text(day[order]),
        }
    )
    return frame.with_columns(export.money_text(pl.col("_amount"), pl.col("_exponent")).alias("amount")).select(
        PAYMENT_COLUMNS
    )


def _truth_frame(parameters: CustomerParameters) -> pl.DataFrame:
    names = np.array([p.behaviour.value for p in BEHAVIOURS], dtype=object)
    return pl.DataFrame(
        {
            "customer_id": export.ids("C", np.arange(1, parameters.behaviour.size + 1), export.CUSTOMER_ID_DIGITS),
            "behaviour": export.text(names[parameters.behaviour]),
            "mean_days_late": parameters.mean_days_late,
            "reminder_sensitivity": parameters.reminder_sensitivity,
            "partial_payment_prob": parameters.partial_payment_prob,
            "dispute_prob": parameters.dispute_prob,
            "never_pay_prob": parameters.never_pay_prob,
        }
    ).select(TRUTH_COLUMNS)
