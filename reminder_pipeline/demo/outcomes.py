"""What happens to each invoice by the end date: its amount, when it is paid (in installments or never),
whether it is disputed; as if no reminder was ever sent."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reminder_pipeline.demo.behaviour import sample_days_late, sample_never_pays
from reminder_pipeline.demo.customers import Customers
from reminder_pipeline.demo.days import NO_DAY, month_of
from reminder_pipeline.demo.schedule import Schedule

LARGE_INVOICE_PROB = 0.02
AMOUNT_DELAY_DAYS = 2.0
"""Extra days late per e-fold of an invoice above the customer's usual amount."""
MAX_INSTALLMENTS = 3
CALENDAR_DELAY_DAYS = np.array([2, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4], dtype=np.float64)
"""Extra days late by due month (January .. December): slow Decembers, holiday August, a January hangover."""
BANK_DAY_METHODS = ("bank_transfer", "direct_debit")
"""Payment methods that only post on weekdays: a weekend payment lands on Monday."""


@dataclass(frozen=True)
class Outcomes:
    """Per-invoice amounts and what happened by the end date; payments one row per installment paid."""

    due_day: np.ndarray
    amount_minor: np.ndarray
    paid_day: np.ndarray
    disputed: np.ndarray
    dispute_day: np.ndarray
    payment_invoice: np.ndarray
    payment_amount_minor: np.ndarray
    payment_day: np.ndarray
    payment_installment: np.ndarray


def _monday_if_weekend(days: np.ndarray) -> np.ndarray:
    weekday = (days + 3) % 7
    return days + np.where(weekday == 5, 2, np.where(weekday == 6, 1, 0))


def simulate_outcomes(rng: np.random.Generator, schedule: Schedule, customers: Customers, end_day: int) -> Outcomes:
    """Amounts, delays, disputes and installments per invoice, as if no reminder was ever sent."""
    customer = schedule.invoice_customer
    issue_day = schedule.issue_day
    size = issue_day.size
    params = customers.parameters
    terms = customers.terms_days[customer]
    due_day = issue_day + terms

    large = rng.random(size) < LARGE_INVOICE_PROB
    multiplier = np.exp(rng.normal(0.0, customers.amount_sigma[customer])) * np.where(
        large, rng.uniform(3.0, 10.0, size), 1.0
    )
    scale = np.power(10.0, customers.exponent[customer])
    amount_minor = np.maximum(np.rint(customers.typical_amount[customer] * multiplier * scale), scale).astype(np.int64)

    due_month = month_of(due_day) % 12
    mean_delay = (
        params.mean_days_late[customer] + CALENDAR_DELAY_DAYS[due_month] + AMOUNT_DELAY_DAYS * np.log(multiplier)
    )
    days_late = sample_days_late(rng, mean_delay, params.noise_scale[customer], params.reminder_sensitivity[customer])
    pay_day = np.maximum(due_day + days_late, issue_day)
    never_paid = sample_never_pays(rng, params.never_pay_prob[customer], params.reminder_sensitivity[customer])

    raises_dispute = rng.random(size) < params.dispute_prob[customer]
    dispute_day = issue_day + rng.integers(2, terms + 11)
    resolved_day = dispute_day + np.ceil(rng.gamma(2.0, 9.0, size)).astype(np.int64)
    pay_day = np.where(raises_dispute, np.maximum(pay_day, resolved_day + rng.integers(0, 7, size)), pay_day)

    partial = rng.random(size) < params.partial_payment_prob[customer]
    installments = np.where(partial, rng.integers(2, MAX_INSTALLMENTS + 1, size), 1)
    gap = np.minimum(rng.integers(7, 22, size), (pay_day - issue_day) // np.maximum(installments - 1, 1))
    installments = np.where(gap > 0, installments, 1)
    paid_installments = np.where(never_paid, np.where(installments > 1, installments - 1, 0), installments)
    slot = np.arange(MAX_INSTALLMENTS)[None, :]
    weights = np.where(slot < installments[:, None], rng.uniform(0.5, 1.5, (size, MAX_INSTALLMENTS)), 0.0)
    shares = np.floor(weights / weights.sum(axis=1, keepdims=True) * amount_minor[:, None]).astype(np.int64)
    rows = np.arange(size)
    last_slot = installments - 1
    shares[rows, last_slot] = amount_minor - (shares.sum(axis=1) - shares[rows, last_slot])
    slot_day = np.maximum(pay_day[:, None] - (last_slot[:, None] - slot) * gap[:, None], issue_day[:, None])
    bank_day = np.isin(customers.payment_method[customer], BANK_DAY_METHODS)
    slot_day = np.where(bank_day[:, None], _monday_if_weekend(slot_day), slot_day)

    final_day = slot_day[rows, last_slot]
    settled = (paid_installments == installments) & (final_day <= end_day)
    payment_made = (slot < paid_installments[:, None]) & (slot_day <= end_day)
    invoice_of_payment, installment = np.nonzero(payment_made)
    disputed = raises_dispute & (dispute_day <= end_day)
    return Outcomes(
        due_day=due_day,
        amount_minor=amount_minor,
        paid_day=np.where(settled, final_day, NO_DAY),
        disputed=disputed,
        dispute_day=np.where(disputed, dispute_day, NO_DAY),
        payment_invoice=invoice_of_payment,
        payment_amount_minor=shares[invoice_of_payment, installment],
        payment_day=slot_day[invoice_of_payment, installment],
        payment_installment=installment,
    )
