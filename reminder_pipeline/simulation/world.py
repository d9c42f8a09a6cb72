"""The simulated world: who the customers are, what they are billed, and how they would pay unreminded.

Everything comes from the demo generator (``reminder_pipeline.demo``), drawn twice from one seed:

- the **truth**, without bad rows: every customer's latent behaviour (``truth``), every invoice, and
  its payments as they happen when no reminder is ever sent (installments, never-payers, disputes);
- the **billing feed**, the same data with about 1 % bad rows, as the billing system exports it: the
  pipeline only ever sees this, through its drop folder.

Both draws use the same random streams for the schedule, the customers and the outcomes, so the clean
rows of the feed are exactly the truth's. The generator runs over a history before the first simulated
day (the ledger's past, for features and the risk model), the simulated days, and a horizon after them
(so that every invoice's unreminded payment is known even when it falls after the last day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import polars as pl
from babel.numbers import get_currency_precision

from reminder_pipeline.demo.defects import INVOICE_DEFECTS, defect_counts
from reminder_pipeline.demo.generator import DemoData, generate_demo_data
from reminder_pipeline.demo.tables import COUNTRIES
from reminder_pipeline.simulation.clock import FIRST_DAY

HISTORY_DAYS = 180
HORIZON_DAYS = 180
DIRTY_RATE = 0.01
MAX_DRAWS = 8
INVOICES_PER_CUSTOMER_GUESS = 9.0
USD_PER_UNIT = {c.currency: 1.0 / c.units_per_usd for c in COUNTRIES}
"""The demo's rough exchange rates, to add up money in one currency (USD) for the collection figures."""


@cache
def currency_exponent(currency: str) -> int:
    return int(get_currency_precision(currency))


@dataclass(frozen=True)
class World:
    first_day: date
    last_day: date
    seed: int
    customers: pl.DataFrame
    """The truth per customer: contacts and consents as the feed gives them, plus the latent behaviour."""
    invoices: pl.DataFrame
    """``invoice_id, customer_id, issue_date, due_date, amount_minor, currency, exponent, dispute_date``:
    every invoice issued by the last day."""
    installments: pl.DataFrame
    """``invoice_id, paid_date, amount_minor``: the payments each invoice gets when nobody reminds anyone."""
    feed: DemoData
    """The billing system's export (bad rows included) of the chosen customers, as text."""

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range((self.last_day - self.first_day).days + 1)]

    @property
    def history_day(self) -> date:
        """The business date of the initial load: the day before the first simulated day."""
        return self.first_day - timedelta(days=1)


def _number(column: str, prefix: str) -> pl.Expr:
    return pl.col(column).str.strip_prefix(prefix).cast(pl.Int64, strict=False)


def _minor(column: str) -> pl.Expr:
    """Money text written with exactly its currency's decimals (as the generator writes it) in minor units."""
    return pl.col(column).str.replace(".", "", literal=True).cast(pl.Int64)


def _truth_of_feed(feed_invoices: int, seed: int, start: date, end: date) -> DemoData:
    """The truth (no bad rows) of a feed of ``feed_invoices`` rows: the feed less its appended duplicates,
    which the generator draws from the same streams."""
    counts = defect_counts(DIRTY_RATE, feed_invoices, len(INVOICE_DEFECTS))
    appended = sum(counts[INVOICE_DEFECTS.index(kind)] for kind in ("conflicting_duplicate", "identical_duplicate"))
    return generate_demo_data(max(1, feed_invoices - appended), seed=seed, start=start, end=end, dirty_rate=0)


def build_world(customers: int, days: int, seed: int, first_day: date = FIRST_DAY) -> World:
    """``customers`` customers billed by ``first_day + days - 1``, the first ones to join (they join over the
    history and the simulated days alike: the generator numbers customers by their first invoice)."""
    if customers < 1 or days < 1:
        raise ValueError("a simulation needs at least one customer and one day")
    last_day = first_day + timedelta(days=days - 1)
    start, end = first_day - timedelta(days=HISTORY_DAYS), last_day + timedelta(days=HORIZON_DAYS)
    target = int(customers * INVOICES_PER_CUSTOMER_GUESS * (end - start).days / 365) + 100
    for _ in range(MAX_DRAWS):
        truth = _truth_of_feed(target, seed, start, end)
        joined = truth.customers.filter(pl.col("first_invoice_date") <= last_day).height
        if joined >= customers:
            break
        target = int(target * customers / max(joined, 1) * 1.05) + 100
    else:
        raise RuntimeError(f"the generator gave fewer than {customers} customers in {MAX_DRAWS} draws")
    feed = generate_demo_data(target, seed=seed, start=start, end=end, dirty_rate=DIRTY_RATE)
    return World(
        first_day=first_day,
        last_day=last_day,
        seed=seed,
        customers=_customers(truth, customers),
        invoices=_invoices(truth, customers, last_day),
        installments=_installments(truth, customers, last_day),
        feed=_chosen_feed(feed, customers, truth.customers.height, last_day),
    )


def _customers(truth: DemoData, chosen: int) -> pl.DataFrame:
    frame = truth.customers.filter(_number("customer_id", "C") <= chosen)
    flags = [pl.col(c).eq("true").alias(c) for c in ("email_opt_out", "sms_opt_out", "sms_consent")]
    return frame.with_columns(flags).join(truth.truth, on="customer_id", how="left")


def _invoices(truth: DemoData, chosen: int, last_day: date) -> pl.DataFrame:
    invoices = truth.invoices.filter(_number("customer_id", "C") <= chosen)
    typed = invoices.select(
        "invoice_id",
        "customer_id",
        pl.col("issue_date").str.to_date(),
        pl.col("due_date").str.to_date(),
        _minor("amount").alias("amount_minor"),
        "currency",
        pl.col("dispute_date").str.to_date(),
    ).filter(pl.col("issue_date") <= last_day)
    exponents = pl.DataFrame(
        {"currency": typed["currency"].unique().to_list()}, schema={"currency": pl.String}
    ).with_columns(pl.col("currency").map_elements(currency_exponent, return_dtype=pl.Int64).alias("exponent"))
    return typed.join(exponents, on="currency", how="left")


def _installments(truth: DemoData, chosen: int, last_day: date) -> pl.DataFrame:
    kept = _invoices(truth, chosen, last_day).select("invoice_id")
    return (
        truth.payments.join(kept, on="invoice_id", how="semi")
        .select("invoice_id", pl.col("paid_date").str.to_date(), _minor("amount").alias("amount_minor"))
        .sort("invoice_id", "paid_date")
    )


def _chosen_feed(feed: DemoData, chosen: int, all_customers: int, last_day: date) -> DemoData:
    """The feed's rows of the chosen customers, plus its rows naming customers or invoices that do not
    exist at all (bad rows on purpose), issued by the last day."""
    number = _number("customer_id", "C")
    invoices = feed.invoices.filter(
        ((number <= chosen) | (number > all_customers) | number.is_null()) & (pl.col("issue_date") <= str(last_day))
    )
    known_invoices = feed.invoices.select(pl.col("invoice_id").unique())
    payments = feed.payments.filter(
        pl.col("invoice_id").is_in(invoices["invoice_id"].implode())
        | ~pl.col("invoice_id").is_in(known_invoices["invoice_id"].implode())
    )
    return DemoData(
        customers=feed.customers.filter(number <= chosen),
        invoices=invoices,
        payments=payments,
        truth=feed.truth.filter(number <= chosen),
    )
