"""The headline figures, from the snapshot's frames (pure polars: no I/O).

Definitions, per currency, as of day ``d``:

- **outstanding** — what is left to pay on invoices issued by ``d``; **overdue** — of it, on
  invoices due before ``d``;
- **DSO** (days sales outstanding) at ``t`` — receivables at ``t`` ÷ invoiced in the 90 days to ``t``
  × 90; the **trend** is DSO every 30 days over the last 150 days;
- **CEI** (collection effectiveness index) over the last 30 days — (receivables 30 days ago +
  invoiced since − receivables now) ÷ (receivables 30 days ago + invoiced since − receivables not
  yet due now) × 100;
- **average days delinquent** — DSO − best possible DSO (receivables not yet due ÷ invoiced × 90);
- **collected** — payments dated in the last 30 days;
- **aging** — what is outstanding by days past due, in the buckets the policy's aging edges make
  (``segmentation.aging_edges``, as the segments and the ingestion summary have them: with the
  shipped policy's 7, 30, 60, not yet due, 1–7, 8–30, 31–60, 60+; ``core.receivables``).

And for reminders handed to a provider in the last 30 days: how many were sent, delivered and
failed, and the share followed within 7 days by a reply, and by a payment, from that customer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.core.receivables import aging_labels, with_aging
from reminder_pipeline.dashboard.loading import Sources

DSO_DAYS = 90
WINDOW_DAYS = 30
TREND_POINTS = 6
FOLLOW_UP_DAYS = 7


@dataclass(frozen=True)
class CurrencyFigures:
    currency: str
    outstanding_minor: int
    overdue_minor: int
    collected_30d_minor: int
    dso: float | None
    dso_trend: list[tuple[date, float | None]]
    cei: float | None
    average_days_delinquent: float | None
    aging_minor: dict[str, int]


@dataclass(frozen=True)
class ReminderFigures:
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    reply_rate: float | None = None
    payment_rate: float | None = None


@dataclass(frozen=True)
class Figures:
    day: date
    aging_buckets: list[str]
    """The aging buckets in order, as ``aging_labels`` names them (the keys of each ``aging_minor``)."""
    currencies: list[CurrencyFigures] = field(default_factory=list)
    reminders: ReminderFigures = field(default_factory=ReminderFigures)


def balances_at(invoices: pl.DataFrame, payments: pl.DataFrame, t: date) -> pl.DataFrame:
    """``invoice_id, customer_id, currency, due_date, balance_minor``: what was left on each invoice issued
    by ``t`` after the payments dated by ``t`` (payments dated later are taken off what is paid now)."""
    later = (
        payments.filter(pl.col("paid_date") > t)
        .group_by("invoice_id")
        .agg(pl.col("amount_minor").sum().alias("_later"))
    )
    return (
        invoices.filter(pl.col("issue_date") <= t)
        .join(later, on="invoice_id", how="left")
        .with_columns((pl.col("paid_minor") - pl.col("_later").fill_null(0)).clip(lower_bound=0).alias("_paid_then"))
        .with_columns((pl.col("amount_minor") - pl.col("_paid_then")).clip(lower_bound=0).alias("balance_minor"))
        .select("invoice_id", "customer_id", "currency", "due_date", "balance_minor")
    )


def _receivables(invoices: pl.DataFrame, payments: pl.DataFrame, t: date) -> dict[str, tuple[int, int]]:
    """Per currency at ``t``: (all receivables, those not yet due)."""
    frame = (
        balances_at(invoices, payments, t)
        .group_by("currency")
        .agg(
            pl.col("balance_minor").sum().alias("total"),
            pl.col("balance_minor").filter(pl.col("due_date") >= t).sum().alias("current"),
        )
    )
    return {r["currency"]: (int(r["total"]), int(r["current"] or 0)) for r in frame.iter_rows(named=True)}


def _sales(invoices: pl.DataFrame, after: date, until: date) -> dict[str, int]:
    frame = (
        invoices.filter((pl.col("issue_date") > after) & (pl.col("issue_date") <= until))
        .group_by("currency")
        .agg(pl.col("amount_minor").sum())
    )
    return {r["currency"]: int(r["amount_minor"]) for r in frame.iter_rows(named=True)}


def _dso(receivable: int, sold: int) -> float | None:
    return None if sold <= 0 else receivable / sold * DSO_DAYS


def aging(balances: pl.DataFrame, day: date, edges: Sequence[int]) -> pl.DataFrame:
    """``currency, bucket, balance_minor`` of open balances by days past due on ``day``, in the buckets
    ``edges`` make."""
    return (
        with_aging(balances.filter(pl.col("balance_minor") > 0), day, edges)
        .group_by("currency", pl.col("aging_bucket").alias("bucket"))
        .agg(pl.col("balance_minor").sum())
    )


def reminder_figures(sources: Sources) -> ReminderFigures:
    d = sources.day
    sent = sources.messages.filter(pl.col("send_on") > d - timedelta(days=WINDOW_DAYS))
    handed = sent.filter(pl.col("sent_at").is_not_null()).with_row_index("_message")
    if sent.is_empty():
        return ReminderFigures()
    follow = timedelta(days=FOLLOW_UP_DAYS)
    replied = (
        handed.join(sources.replies, on="customer_id", how="inner")
        .filter((pl.col("received_at") >= pl.col("sent_at")) & (pl.col("received_at") <= pl.col("sent_at") + follow))
        .select("_message")
        .unique()
        .height
    )
    paid = (
        handed.with_columns(pl.col("sent_at").dt.date().alias("_sent_on"))
        .join(sources.payments.select("customer_id", "paid_date"), on="customer_id", how="inner")
        .filter((pl.col("paid_date") >= pl.col("_sent_on")) & (pl.col("paid_date") <= pl.col("_sent_on") + follow))
        .select("_message")
        .unique()
        .height
    )
    count = handed.height
    return ReminderFigures(
        sent=count,
        delivered=int((sent["status"] == OutboxStatus.DELIVERED).sum()),
        failed=int((sent["status"] == OutboxStatus.FAILED).sum()),
        reply_rate=replied / count if count else None,
        payment_rate=paid / count if count else None,
    )


def figures(sources: Sources, aging_edges: Sequence[int]) -> Figures:
    """Every headline figure as of ``sources.day``; the aging in the buckets of the policy's ``aging_edges``."""
    d = sources.day
    inv, pay = sources.invoices, sources.payments
    now = balances_at(inv, pay, d)
    receivable = _receivables(inv, pay, d)
    before = _receivables(inv, pay, d - timedelta(days=WINDOW_DAYS))
    sold_window = _sales(inv, d - timedelta(days=WINDOW_DAYS), d)
    sold_dso = _sales(inv, d - timedelta(days=DSO_DAYS), d)
    trend_days = [d - timedelta(days=WINDOW_DAYS * k) for k in range(TREND_POINTS - 1, -1, -1)]
    trend_points = {
        t: (_receivables(inv, pay, t), _sales(inv, t - timedelta(days=DSO_DAYS), t))
        if t != d
        else (receivable, sold_dso)
        for t in trend_days
    }
    collected = (
        pay.filter(pl.col("paid_date") > d - timedelta(days=WINDOW_DAYS))
        .group_by("currency")
        .agg(pl.col("amount_minor").sum())
    )
    collected_by = {r["currency"]: int(r["amount_minor"]) for r in collected.iter_rows(named=True)}
    aged, buckets_in_order = aging(now, d, aging_edges), aging_labels(aging_edges)
    currencies = sorted(set(receivable) | set(collected_by))
    result = []
    for currency in currencies:
        total, current = receivable.get(currency, (0, 0))
        begin = before.get(currency, (0, 0))[0]
        sold = sold_window.get(currency, 0)
        denominator = begin + sold - current
        dso = _dso(total, sold_dso.get(currency, 0))
        best = _dso(current, sold_dso.get(currency, 0))
        buckets = {
            r["bucket"]: int(r["balance_minor"])
            for r in aged.filter(pl.col("currency") == currency).iter_rows(named=True)
        }
        result.append(
            CurrencyFigures(
                currency=currency,
                outstanding_minor=total,
                overdue_minor=total - current,
                collected_30d_minor=collected_by.get(currency, 0),
                dso=dso,
                dso_trend=[
                    (t, _dso(points[0].get(currency, (0, 0))[0], points[1].get(currency, 0)))
                    for t, points in trend_points.items()
                ],
                cei=(begin + sold - total) / denominator * 100 if denominator > 0 else None,
                average_days_delinquent=None if dso is None or best is None else dso - best,
                aging_minor={b: buckets.get(b, 0) for b in buckets_in_order},
            )
        )
    return Figures(day=d, aging_buckets=buckets_in_order, currencies=result, reminders=reminder_figures(sources))
