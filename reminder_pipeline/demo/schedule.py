"""Who is billed when: customers joining and leaving over the period, and their monthly invoices."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from reminder_pipeline.demo.behaviour import draw_behaviours, profile_values
from reminder_pipeline.demo.days import NO_DAY, first_day_of, month_of

DAYS_PER_MONTH = 30.44
MAX_CYCLE_DAY = 28
EXISTING_CUSTOMER_SHARE = 0.35
"""Customers already billed when the period starts; the others join uniformly over the period."""
SKIP_MONTH_PROB = 0.02
EXTRA_INVOICE_PROB = 0.015


@dataclass(frozen=True)
class Schedule:
    """Customers (indexed by their number - 1, ordered by first invoice) and their invoices, ordered by issue day."""

    behaviour: np.ndarray
    cycle_day: np.ndarray
    first_issue_day: np.ndarray
    invoice_customer: np.ndarray
    issue_day: np.ndarray


def _draw_batch(
    rng: np.random.Generator, size: int, start_day: int, end_day: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A batch of candidate customers with their monthly invoices: (behaviour, cycle, first issue, customer, issue)."""
    behaviour = draw_behaviours(rng, size)
    cycle_day = rng.integers(1, MAX_CYCLE_DAY + 1, size)
    existing = rng.random(size) < EXISTING_CUSTOMER_SHARE
    join_day = np.where(existing, start_day, rng.integers(start_day, end_day + 1, size))
    churns = rng.random(size) < profile_values("churn_prob")[behaviour]
    stay_days = np.floor(rng.random(size) * (end_day - join_day + 1)).astype(np.int64)
    leave_day = np.where(churns, join_day + stay_days, end_day)
    join_month, leave_month = month_of(join_day), month_of(leave_day)
    first_month = join_month + (join_day - first_day_of(join_month) + 1 > cycle_day)
    last_month = leave_month - (leave_day - first_day_of(leave_month) + 1 < cycle_day)
    regular = np.clip(last_month - first_month + 1, 0, None)
    customer = np.repeat(np.arange(size), regular)
    nth = np.arange(customer.size) - np.repeat(np.cumsum(regular) - regular, regular)
    issue_day = first_day_of(first_month[customer] + nth) + cycle_day[customer] - 1
    kept = (nth == 0) | (rng.random(customer.size) >= SKIP_MONTH_PROB)
    extra = rng.random(customer.size) < EXTRA_INVOICE_PROB
    extra_day = issue_day[extra] + rng.integers(3, 16, int(extra.sum()))
    extra_kept = extra_day <= end_day
    first_issue_day = first_day_of(first_month) + cycle_day - 1
    return (
        behaviour,
        cycle_day,
        np.where(regular > 0, first_issue_day, NO_DAY),
        np.concatenate([customer[kept], customer[extra][extra_kept]]),
        np.concatenate([issue_day[kept], extra_day[extra_kept]]),
    )


def draw_schedule(rng: np.random.Generator, target: int, start_day: int, end_day: int) -> Schedule:
    """Exactly ``target`` invoices: whole candidate customers in draw order, the last one cut short."""
    months = (end_day - start_day + 1) / DAYS_PER_MONTH
    invoices_per_customer = max(0.5, months * (EXISTING_CUSTOMER_SHARE + (1 - EXISTING_CUSTOMER_SHARE) / 2) * 0.9)
    batch_size = math.ceil(target / invoices_per_customer * 1.2) + 16
    batches: list[tuple[np.ndarray, ...]] = []
    drawn = total = 0
    while total < target:
        behaviour, cycle, first_issue, customer, issue = _draw_batch(rng, batch_size, start_day, end_day)
        batches.append((behaviour, cycle, first_issue, customer + drawn, issue))
        drawn += batch_size
        total += issue.size
    behaviour, cycle_day, first_issue_day, customer, issue_day = (
        np.concatenate(parts) for parts in zip(*batches, strict=True)
    )
    counts = np.bincount(customer, minlength=drawn)
    cumulative = np.cumsum(counts)
    last = int(np.searchsorted(cumulative, target))
    excess = int(cumulative[last] - target)
    kept = customer <= last
    if excess:
        own = np.flatnonzero(customer == last)
        kept[own[np.argsort(issue_day[own], kind="stable")[-excess:]]] = False
    customer, issue_day = customer[kept], issue_day[kept]
    candidates = np.flatnonzero(counts[: last + 1] > 0)
    by_first_invoice = candidates[np.lexsort((candidates, first_issue_day[candidates]))]
    number = np.full(drawn, -1, dtype=np.int64)
    number[by_first_invoice] = np.arange(by_first_invoice.size)
    invoice_customer = number[customer]
    order = np.lexsort((invoice_customer, issue_day))
    return Schedule(
        behaviour=behaviour[by_first_invoice],
        cycle_day=cycle_day[by_first_invoice],
        first_issue_day=first_issue_day[by_first_invoice],
        invoice_customer=invoice_customer[order],
        issue_day=issue_day[order],
    )
