"""Invoice histories with other cadences than the IBM sample's, and a base rate that moves before the test.

Each is drawn from one seed with the demo generator's payment behaviours (``reminder_pipeline.demo.behaviour``:
punctual, forgetful, cash-strapped, disputing and never-paying customers, right-skewed delays), on a
billing rhythm of its own, and written in the canonical invoice-history columns, so that
``reminders evaluate --history <file>.csv --split-date <split>`` reads it with no mapping. Delays are
drawn relative to the terms (a customer who is a week late on 30-day terms is about two days late on
weekly ones), drift per customer over time, grow with an invoice's size against the customer's usual,
and from ``shift_start`` a share of customers is hit by a shock that moves the late share.

``write_histories`` rewrites the CSV files next to this module; a test checks they are what this
module draws, so the files and the recipe cannot part.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path

import numpy as np
import polars as pl

from reminder_pipeline.demo.behaviour import draw_behaviours, draw_customer_parameters, sample_days_late

HERE = Path(__file__).resolve().parent
REFERENCE_TERMS_DAYS = 30.0
"""The demo behaviours' delays are for 30-day terms; other terms scale them."""


class Rhythm(StrEnum):
    MONTHLY = "monthly"
    """A fixed day of the month."""
    WEEKLY = "weekly"
    """A fixed weekday."""
    IRREGULAR = "irregular"
    """Gaps drawn per customer around their own usual gap."""


@dataclass(frozen=True)
class Cadence:
    name: str
    description: str
    customers: int
    start: date
    issue_until: date
    observed_until: date
    """The end of the data: payments after it are not known yet."""
    split: date
    rhythm: Rhythm
    terms: tuple[int, ...]
    terms_weights: tuple[float, ...]
    shift_start: date
    shift_ramp_days: int
    shift_days: float
    """Extra days late (relative to 30-day terms) for shocked customers once the ramp is complete."""
    shocked_share: float
    typical_amount: float
    seed: int
    baseline_days: float = 0.0
    """Added to every customer's usual delay (relative to 30-day terms): how punctual the portfolio is."""
    mean_gap_days: float = 14.0
    noise_factor: float = 1.0
    """How much more an invoice's delay varies around the customer's usual than the demo behaviours say."""


CADENCES: tuple[Cadence, ...] = (
    Cadence(
        name="monthly_statements",
        description="consumer monthly statements, 14- or 21-day terms, the late share up by a third in the test month",
        customers=1000,
        start=date(2023, 3, 1),
        issue_until=date(2023, 9, 30),
        observed_until=date(2023, 11, 30),
        split=date(2023, 9, 1),
        rhythm=Rhythm.MONTHLY,
        terms=(14, 21),
        terms_weights=(0.6, 0.4),
        shift_start=date(2023, 6, 1),
        shift_ramp_days=120,
        shift_days=18.0,
        shocked_share=0.35,
        typical_amount=60.0,
        seed=101,
        baseline_days=-18.0,
        noise_factor=2.5,
    ),
    Cadence(
        name="b2b_net30",
        description="business customers on 30/45/60-day terms, invoices at irregular intervals, collections improving",
        customers=140,
        start=date(2022, 1, 1),
        issue_until=date(2023, 6, 30),
        observed_until=date(2023, 10, 31),
        split=date(2023, 3, 1),
        rhythm=Rhythm.IRREGULAR,
        terms=(30, 45, 60),
        terms_weights=(0.6, 0.25, 0.15),
        shift_start=date(2022, 10, 1),
        shift_ramp_days=240,
        shift_days=-14.0,
        shocked_share=0.5,
        typical_amount=4200.0,
        seed=202,
        baseline_days=-6.0,
        noise_factor=2.0,
        mean_gap_days=12.0,
    ),
    Cadence(
        name="weekly_invoices",
        description="weekly invoices on 7-day terms, late payments spreading through the last months",
        customers=180,
        start=date(2023, 1, 2),
        issue_until=date(2023, 8, 31),
        observed_until=date(2023, 10, 15),
        split=date(2023, 7, 1),
        rhythm=Rhythm.WEEKLY,
        terms=(7,),
        terms_weights=(1.0,),
        shift_start=date(2023, 4, 1),
        shift_ramp_days=150,
        shift_days=16.0,
        shocked_share=0.3,
        typical_amount=350.0,
        seed=303,
        baseline_days=-15.0,
        noise_factor=2.0,
    ),
)
BY_NAME = {c.name: c for c in CADENCES}


def _days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _issue_days(rng: np.random.Generator, cadence: Cadence, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(customer, issue day) of every invoice, customers joining over the first third of the period."""
    start, end = _days(cadence.start), _days(cadence.issue_until)
    joins = start + np.where(rng.random(n) < 0.6, 0, rng.integers(0, (end - start) // 3 + 1, n))
    customers, days = [], []
    for c in range(n):
        if cadence.rhythm is Rhythm.MONTHLY:
            anchor = int(rng.integers(1, 29))
            months = np.arange(np.datetime64(cadence.start, "M"), np.datetime64(cadence.issue_until, "M") + 1).astype(
                "datetime64[D]"
            )
            issued = months.astype(np.int64) + anchor - 1
        elif cadence.rhythm is Rhythm.WEEKLY:
            issued = np.arange(start + int(rng.integers(0, 7)), end + 1, 7)
        else:
            mean_gap = cadence.mean_gap_days * rng.lognormal(0.0, 0.5)
            gaps = np.maximum(1, np.rint(rng.gamma(2.0, mean_gap / 2.0, 400))).astype(np.int64)
            issued = start + np.cumsum(gaps) - int(rng.integers(0, int(mean_gap) + 1))
        issued = issued[(issued >= joins[c]) & (issued <= end)]
        issued = issued[rng.random(issued.size) >= 0.03]
        customers.append(np.full(issued.size, c))
        days.append(issued)
    customer, day = np.concatenate(customers), np.concatenate(days)
    order = np.lexsort((customer, day))
    return customer[order], day[order]


def draw_history(cadence: Cadence) -> pl.DataFrame:
    """The invoice history in canonical columns, one row per invoice."""
    rng = np.random.default_rng(cadence.seed)
    n = cadence.customers
    params = draw_customer_parameters(rng, draw_behaviours(rng, n))
    terms = rng.choice(np.asarray(cadence.terms), size=n, p=np.asarray(cadence.terms_weights))
    typical = cadence.typical_amount * rng.lognormal(0.0, 0.9, n)
    drift_per_year = rng.normal(0.0, 4.0, n)
    shocked = rng.random(n) < cadence.shocked_share * np.where(params.mean_days_late > 0, 1.4, 0.6)
    customer, issue = _issue_days(rng, cadence, n)
    due = issue + terms[customer]
    size_factor = rng.lognormal(0.0, 0.35, issue.size) * np.where(rng.random(issue.size) < 0.03, 5.0, 1.0)
    amount = np.maximum(1.0, typical[customer] * size_factor).round(2)
    years = (issue - _days(cadence.start)) / 365.0
    ramp = np.clip((due - _days(cadence.shift_start)) / max(1, cadence.shift_ramp_days), 0.0, 1.0)
    scale = terms[customer] / REFERENCE_TERMS_DAYS
    mean_delay = scale * (
        params.mean_days_late[customer]
        + cadence.baseline_days
        + drift_per_year[customer] * years
        + 2.5 * np.log(size_factor)
        + 1.5 * np.log(typical[customer] / cadence.typical_amount)
        + np.where(shocked[customer], cadence.shift_days * ramp, 0.0)
    )
    noise = cadence.noise_factor * params.noise_scale[customer] * np.sqrt(scale)
    days_late = sample_days_late(rng, mean_delay, noise, params.reminder_sensitivity[customer])
    never = rng.random(issue.size) < params.never_pay_prob[customer] * 0.5
    paid = np.maximum(due + days_late, issue)
    observed = (~never) & (paid <= _days(cadence.observed_until))
    epoch = np.datetime64("1970-01-01")
    frame = pl.DataFrame(
        {
            "invoice_id": pl.Series(np.arange(1, issue.size + 1)).cast(pl.String).str.zfill(7),
            "customer_id": "K" + pl.Series(customer + 1).cast(pl.String).str.zfill(5),
            "issue_date": (epoch + issue.astype("timedelta64[D]")).astype("datetime64[D]"),
            "due_date": (epoch + due.astype("timedelta64[D]")).astype("datetime64[D]"),
            "amount": amount,
            "currency": "EUR",
            "paid_date": np.where(observed, epoch + paid.astype("timedelta64[D]"), np.datetime64("NaT")),
        }
    )
    return frame.with_columns(
        pl.col("issue_date", "due_date", "paid_date").cast(pl.Date).dt.strftime("%Y-%m-%d"),
        pl.col("amount").map_elements(lambda a: f"{a:.2f}", return_dtype=pl.String),
    )


def path_of(cadence: Cadence) -> Path:
    return HERE / f"{cadence.name}.csv"


def write_histories() -> None:
    for cadence in CADENCES:
        draw_history(cadence).write_csv(path_of(cadence))


def late_share(frame: pl.DataFrame, issued_from: date, issued_before: date, end: date) -> float:
    """Late share (paid after due, or open and overdue at ``end``) of invoices issued in a range."""
    rows = frame.with_columns(pl.col("issue_date", "due_date", "paid_date").str.to_date()).filter(
        (pl.col("issue_date") >= issued_from) & (pl.col("issue_date") < issued_before)
    )
    known = rows.filter(pl.col("paid_date").is_not_null() | (pl.col("due_date") < end))
    late = known.select(((pl.col("paid_date") > pl.col("due_date")) | pl.col("paid_date").is_null()).mean()).item()
    return float(late)


if __name__ == "__main__":
    write_histories()
    for c in CADENCES:
        f = draw_history(c)
        train = late_share(f, c.start, c.split, c.observed_until)
        recent = late_share(f, c.split - timedelta(days=60), c.split, c.observed_until)
        test = late_share(f, c.split, c.issue_until + timedelta(days=1), c.observed_until)
        print(
            f"{c.name}: {f.height} invoices; late share train {train:.3f}, last 60 days {recent:.3f}, test {test:.3f}"
        )
