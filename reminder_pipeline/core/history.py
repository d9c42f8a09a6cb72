"""The billing history as frames, replayable to any day.

The same structure comes from the ledger (daily pipeline) and from an invoice-history file
(``reminders evaluate``), so features and models are computed by one code path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import polars as pl

from reminder_pipeline.core.canonical import HISTORY_PAYMENT_METHOD

SETTLEMENT_SUFFIX = ":settled"

CUSTOMER_COLUMNS = {
    "customer_id": pl.String(),
    "country": pl.String(),
    "region": pl.String(),
    "paperless_since": pl.Date(),
    "payment_method": pl.String(),
}
INVOICE_COLUMNS = {
    "invoice_id": pl.String(),
    "customer_id": pl.String(),
    "issue_date": pl.Date(),
    "due_date": pl.Date(),
    "amount_minor": pl.Int64(),
    "currency": pl.String(),
}
PAYMENT_COLUMNS = {"invoice_id": pl.String(), "amount_minor": pl.Int64(), "paid_date": pl.Date(), "method": pl.String()}
DISPUTE_COLUMNS = {"invoice_id": pl.String(), "opened_on": pl.Date(), "resolved_on": pl.Date()}


class PromiseStatus(StrEnum):
    """Where a promise to pay stands (``promises_to_pay.status``, the ``status`` of ``History.promises``).

    A reply or a collector records a promise ``pending``; a pending promise whose date and grace have
    passed counts as broken where it is read, its row unchanged. ``kept``, ``cancelled`` and ``broken``
    are honoured wherever a row holds them."""

    PENDING = "pending"
    KEPT = "kept"
    """Paid as promised."""
    CANCELLED = "cancelled"
    """Withdrawn: as if never made."""
    BROKEN = "broken"
    """Not kept: no longer waited for, and counted against the customer."""


PROMISES_OVER = (PromiseStatus.KEPT, PromiseStatus.CANCELLED)
"""Promises that are over: nothing waits for them and nothing counts them (a broken one still counts)."""
PROMISE_COLUMNS = {
    "customer_id": pl.String(),
    "promised_date": pl.Date(),
    "made_on": pl.Date(),
    "status": pl.String(),
}


def _conform(frame: pl.DataFrame, columns: dict[str, pl.DataType]) -> pl.DataFrame:
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in columns.items() if c not in frame.columns]
    return frame.with_columns(missing).select([pl.col(c).cast(t) for c, t in columns.items()])


@dataclass(frozen=True)
class History:
    customers: pl.DataFrame
    invoices: pl.DataFrame
    payments: pl.DataFrame
    disputes: pl.DataFrame
    promises: pl.DataFrame
    derived: dict[str, pl.DataFrame] = field(default_factory=dict, init=False, repr=False, compare=False)
    """State computed from the frames once and shared (payments to date, settlements): a day's features and a
    training read it several times. The frames never change, so neither does what is derived from them."""

    @classmethod
    def of(
        cls,
        *,
        customers: pl.DataFrame | None = None,
        invoices: pl.DataFrame,
        payments: pl.DataFrame | None = None,
        disputes: pl.DataFrame | None = None,
        promises: pl.DataFrame | None = None,
    ) -> History:
        """Conform frames to the expected columns and types (absent optional columns become null)."""
        if customers is None:
            customers = invoices.select("customer_id").unique()
        return cls(
            customers=_conform(customers, CUSTOMER_COLUMNS).unique("customer_id", keep="last"),
            invoices=_conform(invoices, INVOICE_COLUMNS),
            payments=_conform(payments if payments is not None else pl.DataFrame(), PAYMENT_COLUMNS),
            disputes=_conform(disputes if disputes is not None else pl.DataFrame(), DISPUTE_COLUMNS),
            promises=_conform(promises if promises is not None else pl.DataFrame(), PROMISE_COLUMNS),
        )

    def known_on(self, day: date) -> History:
        """Only what had happened by the end of ``day``: the history as it looked then."""
        invoices = self.invoices.filter(pl.col("issue_date") <= day)
        return History(
            customers=self.customers,
            invoices=invoices,
            payments=self.payments.filter(pl.col("paid_date") <= day),
            disputes=self.disputes.filter(pl.col("opened_on").is_null() | (pl.col("opened_on") <= day)).with_columns(
                pl.when(pl.col("resolved_on") <= day).then(pl.col("resolved_on")).alias("resolved_on")
            ),
            promises=self.promises.filter(pl.col("made_on") <= day),
        )

    def last_day(self) -> date | None:
        """The latest date the history shows (the end of the data)."""
        latest = pl.concat(
            [
                self.invoices.select(pl.col("issue_date").alias("d")),
                self.payments.select(pl.col("paid_date").alias("d")),
            ]
        )["d"].max()
        return latest if isinstance(latest, date) else None


def paid_to_date(history: History) -> pl.DataFrame:
    """``invoice_id, paid_date, paid_to_date``: money received per invoice by the end of each payment day.

    Reported (invoice-history) and recorded payments describe the same money: each day the larger
    running total counts, never their sum.
    """
    if "paid_to_date" not in history.derived:
        history.derived["paid_to_date"] = _paid_to_date(history)
    return history.derived["paid_to_date"]


def _running_total(amount: str) -> pl.Expr:
    """Per invoice, of rows sorted by ``invoice_id``: the running total of ``amount`` (integers, so the running
    total over all rows less its value before the invoice's first row is exact, and costs no window by id)."""
    total = pl.col(amount).cum_sum()
    first = (pl.col("invoice_id") != pl.col("invoice_id").shift(1)).fill_null(True)
    return total - pl.when(first).then(total - pl.col(amount)).forward_fill()


def _paid_to_date(history: History) -> pl.DataFrame:
    reported = pl.col("method").fill_null("") == HISTORY_PAYMENT_METHOD
    amount = pl.col("amount_minor")
    return (
        history.payments.select(
            "invoice_id",
            "paid_date",
            pl.when(~reported).then(amount).otherwise(0).alias("recorded"),
            pl.when(reported).then(amount).otherwise(0).alias("reported"),
        )
        .group_by("invoice_id", "paid_date")
        .agg(pl.col("recorded", "reported").sum())
        .sort("invoice_id", "paid_date")
        .select(
            "invoice_id",
            "paid_date",
            pl.max_horizontal(_running_total("recorded"), _running_total("reported")).alias("paid_to_date"),
        )
    )


def settlements(history: History) -> pl.DataFrame:
    """``invoice_id, settled_date``: the first day an invoice's payments reach its amount (null if never).

    An invoice of nothing (a zero-usage month, a fully credited bill) is settled when issued: no
    payment will ever reach its amount, and it was never owed, let alone late.
    """
    if "settlements" not in history.derived:
        history.derived["settlements"] = _settlements(history)
    return history.derived["settlements"]


def _settlements(history: History) -> pl.DataFrame:
    paid = (
        paid_to_date(history)
        .join(history.invoices.select("invoice_id", "amount_minor"), on="invoice_id")
        .filter(pl.col("paid_to_date") >= pl.col("amount_minor"))
        .group_by("invoice_id")
        .agg(pl.col("paid_date").min().alias("settled_date"))
    )
    owed_nothing = history.invoices.filter(pl.col("amount_minor") <= 0).select(
        "invoice_id", pl.col("issue_date").alias("settled_date")
    )
    return pl.concat([paid, owed_nothing]).group_by("invoice_id").agg(pl.col("settled_date").min())


def invoices_with_settlement(history: History) -> pl.DataFrame:
    """The invoices with their ``settled_date`` (null if never), joined once per history."""
    if "invoices_with_settlement" not in history.derived:
        joined = history.invoices.join(settlements(history), on="invoice_id", how="left")
        history.derived["invoices_with_settlement"] = joined
    return history.derived["invoices_with_settlement"]


def outcomes(history: History, end: date) -> pl.DataFrame:
    """Per invoice whose outcome is known at ``end``: ``late`` and ``days_late``.

    Late means paid after the due date, or still unpaid after it at ``end``. An invoice neither
    paid nor due by ``end`` has no known outcome and is left out. ``days_late`` of an unpaid
    invoice is a lower bound (days overdue at ``end``).
    """
    settled = invoices_with_settlement(history).with_columns(
        pl.when(pl.col("settled_date") <= end).then(pl.col("settled_date")).alias("settled_date")
    )
    known = settled.filter(pl.col("settled_date").is_not_null() | (pl.col("due_date") < end))
    days_late = (pl.coalesce(pl.col("settled_date"), pl.lit(end)) - pl.col("due_date")).dt.total_days()
    return known.select(
        "invoice_id",
        (days_late > 0).alias("late"),
        days_late.alias("days_late"),
        pl.col("settled_date").is_not_null().alias("settled"),
    )


def export_date(invoices: pl.DataFrame, business_date: date | None) -> date | None:
    """When the rows were known: the business date, else the latest date an invoice-history export shows."""
    if business_date is not None or invoices.is_empty():
        return business_date
    latest = invoices.select(pl.max_horizontal(pl.col("issue_date", "paid_date", "dispute_date").max())).item()
    return latest if isinstance(latest, date) else None


def reported_payments(invoices: pl.DataFrame, as_of: date | None) -> pl.DataFrame:
    """What an invoice history says was paid, as one reported payment per invoice.

    A settled invoice reports its paid date; a partly paid open one only that the money had
    arrived by the export, so it is dated then. Reported payments carry ``HISTORY_PAYMENT_METHOD``:
    balances take the larger of reported and individually recorded payments, never their sum.
    """
    return (
        invoices.filter(pl.col("paid_amount_minor") > 0)
        .select(
            (pl.col("invoice_id") + SETTLEMENT_SUFFIX).alias("payment_id"),
            "invoice_id",
            "customer_id",
            pl.col("paid_amount_minor").alias("amount_minor"),
            "currency",
            pl.coalesce(pl.col("paid_date"), pl.lit(as_of, dtype=pl.Date)).alias("paid_date"),
            pl.lit(HISTORY_PAYMENT_METHOD).alias("method"),
        )
        .filter(pl.col("paid_date").is_not_null())
    )
