"""The customer's history as dated events and running state, readable as of any day.

Additive state (counts and sums: issued, open, settled, late, overdue, disputed...) is a running
sum per customer; order-dependent state (recent lateness, the largest delay, the last payment) is
kept per event in order. ``features_as_of`` reads both with as-of joins.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from reminder_pipeline.core.history import History, PromiseStatus

ONE_DAY = timedelta(days=1)
ADDITIVE = [
    "n_issued",
    "amt_issued",
    "n_open",
    "n_settled",
    "sum_days_late",
    "sumsq_days_late",
    "sum_days_to_pay",
    "n_resolved",
    "n_late",
    "n_overdue",
    "amt_overdue",
    "n_disputes",
    "n_broken",
    "n_settled_paperless",
    "sum_days_late_paperless",
    "sumsq_days_late_paperless",
    "sum_late_to_terms",
    "sum_pay_to_terms",
    "sum_log_amount",
    "sumsq_log_amount",
]
RECENT_WINDOW = 3
MEDIAN_WINDOW = 10
EWM_ALPHA = 0.5


MIN_TERMS_DAYS = 7
"""Lateness is told in units of the terms, but of at least a week: due-on-receipt invoices would blow it up."""


def terms_scale() -> pl.Expr:
    return days_between(pl.col("due_date"), pl.col("issue_date")).clip(lower_bound=MIN_TERMS_DAYS).cast(pl.Float64)


def log_amount() -> pl.Expr:
    return (pl.col("amount_minor").cast(pl.Float64).clip(lower_bound=0.0) / 100.0).log1p()


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """Null, not NaN or infinity, when there is nothing to divide by."""
    return pl.when(denominator > 0).then(numerator / denominator)


def days_between(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    return (later - earlier).dt.total_days()


def event(frame: pl.DataFrame, day: pl.Expr, **deltas: pl.Expr | int) -> pl.DataFrame:
    values = {name: (value if isinstance(value, pl.Expr) else pl.lit(value)) for name, value in deltas.items()}
    return frame.select(
        "customer_id",
        day.alias("date"),
        *[values.get(c, pl.lit(0)).cast(pl.Float64).alias(c) for c in ADDITIVE],
    ).filter(pl.col("date").is_not_null())


def additive_events(invoices: pl.DataFrame, history: History) -> pl.DataFrame:
    """Dated changes of the additive state, at most three per invoice: issued, settled, and the day after it
    was due (overdue unless settled on time by then, and then late; its punctuality known either way).
    Changes that fall on the same day for the same invoice share a row: the day's sums are the same, with
    fewer rows to add up."""
    invoices = invoices.join(history.customers.select("customer_id", "paperless_since"), on="customer_id", how="left")
    invoices = invoices.with_columns(
        (pl.col("paperless_since") <= pl.col("issue_date")).fill_null(False).alias("_paperless")
    )
    settled = invoices.filter(pl.col("settled_date").is_not_null())
    amount = pl.col("amount_minor").cast(pl.Float64)
    # settled late (or not yet): overdue from the day after the due date until settled, if ever
    late = ~(pl.col("settled_date") <= pl.col("due_date")).fill_null(False)
    disputes = history.disputes.join(invoices.select("invoice_id", "customer_id", "settled_date"), on="invoice_id")
    broken = history.promises.filter(pl.col("status") == PromiseStatus.BROKEN.value)
    return pl.concat(
        [
            event(
                invoices,
                pl.col("issue_date"),
                n_issued=1,
                amt_issued=amount,
                n_open=1,
                sum_log_amount=log_amount(),
                sumsq_log_amount=log_amount().pow(2),
            ),
            event(
                settled,
                pl.col("settled_date"),
                n_open=-1,
                n_settled=1,
                sum_days_late=days_between(pl.col("settled_date"), pl.col("due_date")),
                sumsq_days_late=days_between(pl.col("settled_date"), pl.col("due_date")).pow(2),
                sum_days_to_pay=days_between(pl.col("settled_date"), pl.col("issue_date")),
                n_settled_paperless=pl.col("_paperless").cast(pl.Float64),
                sum_days_late_paperless=pl.when(pl.col("_paperless"))
                .then(days_between(pl.col("settled_date"), pl.col("due_date")))
                .otherwise(0),
                sumsq_days_late_paperless=pl.when(pl.col("_paperless"))
                .then(days_between(pl.col("settled_date"), pl.col("due_date")).pow(2))
                .otherwise(0),
                sum_late_to_terms=days_between(pl.col("settled_date"), pl.col("due_date")) / terms_scale(),
                sum_pay_to_terms=days_between(pl.col("settled_date"), pl.col("issue_date")) / terms_scale(),
                n_resolved=(~late).cast(pl.Float64),
                n_overdue=-late.cast(pl.Float64),
                amt_overdue=pl.when(late).then(-amount).otherwise(0.0),
            ),
            event(
                invoices,
                pl.col("due_date") + ONE_DAY,
                n_resolved=late.cast(pl.Float64),
                n_late=late.cast(pl.Float64),
                n_overdue=late.cast(pl.Float64),
                amt_overdue=pl.when(late).then(amount).otherwise(0.0),
            ),
            event(disputes, pl.coalesce("opened_on", "settled_date"), n_disputes=1),
            event(broken, pl.col("promised_date"), n_broken=1),
        ]
    )


def running_state(events: pl.DataFrame) -> pl.DataFrame:
    return (
        events.group_by("customer_id", "date")
        .agg(pl.col(ADDITIVE).sum())
        .sort("customer_id", "date")
        .with_columns(pl.col(ADDITIVE).cum_sum().over("customer_id"))
        .sort("date")
    )


TIE_BREAK = ("issue_date", "invoice_id")
"""Events of one customer on one day in issue order, then by invoice: the same state whatever the row
order of the source file."""


def ordered_state(invoices: pl.DataFrame, history: History) -> dict[str, pl.DataFrame]:
    """State that depends on the order of events, one row per (customer, date), sorted by date."""
    settled = (
        invoices.filter(pl.col("settled_date").is_not_null())
        .select(
            "customer_id",
            pl.col("settled_date").alias("date"),
            *TIE_BREAK,
            days_between(pl.col("settled_date"), pl.col("due_date")).alias("days_late"),
        )
        .sort("customer_id", "date", *TIE_BREAK)
        .with_columns(
            pl.col("days_late").cum_max().over("customer_id").alias("max_days_late"),
            pl.col("days_late").cast(pl.Float64).ewm_mean(alpha=EWM_ALPHA).over("customer_id").alias("ewm_days_late"),
            pl.col("days_late")
            .cast(pl.Float64)
            .rolling_mean(RECENT_WINDOW, min_samples=1)
            .over("customer_id")
            .alias("recent_days_late"),
            pl.col("days_late").cast(pl.Float64).alias("last_days_late"),
            pl.col("days_late")
            .cast(pl.Float64)
            .rolling_median(MEDIAN_WINDOW, min_samples=1)
            .over("customer_id")
            .alias("median_days_late"),
        )
        .group_by("customer_id", "date")
        .agg(pl.col("max_days_late", "ewm_days_late", "recent_days_late", "last_days_late", "median_days_late").last())
    )
    resolved = (
        invoices.select(
            "customer_id",
            pl.when(pl.col("settled_date") <= pl.col("due_date"))
            .then(pl.col("settled_date"))
            .otherwise(pl.col("due_date") + ONE_DAY)
            .alias("date"),
            *TIE_BREAK,
            (pl.col("settled_date").is_null() | (pl.col("settled_date") > pl.col("due_date")))
            .cast(pl.Float64)
            .alias("late"),
        )
        .sort("customer_id", "date", *TIE_BREAK)
        .with_columns(
            pl.col("late").rolling_mean(RECENT_WINDOW, min_samples=1).over("customer_id").alias("recent_late_rate"),
        )
        .group_by("customer_id", "date")
        .agg(pl.col("recent_late_rate").last())
    )
    # A payment made before its invoice was issued (a prepayment) only becomes the customer's payment
    # of that invoice when the invoice exists: before, nothing links it to the customer's billing.
    known_from = pl.max_horizontal("paid_date", "issue_date")
    paid = (
        history.payments.join(invoices.select("invoice_id", "customer_id", "issue_date"), on="invoice_id")
        .select("customer_id", known_from.alias("date"), known_from.alias("last_payment_date"))
        .unique(["customer_id", "date"])
    )
    return {
        name: frame.sort("date") for name, frame in {"settled": settled, "resolved": resolved, "paid": paid}.items()
    }


DELIVERY_PRIOR_WEIGHT = 5.0
"""Pairs of paper and electronic invoices worth of belief that delivery makes no difference."""


def delivery_shift(running: pl.DataFrame) -> pl.DataFrame:
    """``_shift_date, delivery_shift``: across customers, how many days later (negative: earlier) invoices
    delivered electronically were settled than the same customer's paper ones, by the end of each day.

    A within-customer difference, so customers who pay late anyway do not pass for the effect of paper.
    Each customer with settled invoices of both kinds weighs ``n_paper * n_electronic / n`` (the inverse
    variance of a difference of two means), and the pooled difference is shrunk towards no difference.
    """
    n_e, s_e = pl.col("n_settled_paperless"), pl.col("sum_days_late_paperless")
    n_p, s_p = pl.col("n_settled") - n_e, pl.col("sum_days_late") - s_e
    both = (n_e > 0) & (n_p > 0)
    weight = pl.when(both).then(n_p * n_e / (n_p + n_e)).otherwise(0.0)
    difference = pl.when(both).then(s_e / n_e - s_p / n_p).otherwise(0.0)
    per_customer = (
        running.select("customer_id", "date", weight.alias("w"), (weight * difference).alias("wd"))
        .sort("customer_id", "date")
        .with_columns((pl.col(c) - pl.col(c).shift(1).over("customer_id").fill_null(0.0)).alias(c) for c in ("w", "wd"))
    )
    return (
        per_customer.group_by("date")
        .agg(pl.col("w", "wd").sum())
        .sort("date")
        .select(
            pl.col("date").alias("_shift_date"),
            (pl.col("wd").cum_sum() / (pl.col("w").cum_sum() + DELIVERY_PRIOR_WEIGHT)).alias("delivery_shift"),
        )
    )


PORTFOLIO_WINDOW_DAYS = 60


def portfolio_late_rate(invoices: pl.DataFrame) -> pl.DataFrame:
    """Across all customers: the late share of invoices whose punctuality became known in the last 60 days."""
    resolved = invoices.select(
        pl.when(pl.col("settled_date") <= pl.col("due_date"))
        .then(pl.col("settled_date"))
        .otherwise(pl.col("due_date") + ONE_DAY)
        .alias("_portfolio_date"),
        (pl.col("settled_date").is_null() | (pl.col("settled_date") > pl.col("due_date")))
        .cast(pl.Float64)
        .alias("late"),
    )
    daily = resolved.group_by("_portfolio_date").agg(pl.col("late").sum(), pl.len().alias("n")).sort("_portfolio_date")
    window = f"{PORTFOLIO_WINDOW_DAYS}d"
    return daily.with_columns(
        (
            pl.col("late").rolling_sum_by("_portfolio_date", window_size=window)
            / pl.col("n").rolling_sum_by("_portfolio_date", window_size=window)
        ).alias("portfolio_late_rate")
    ).select("_portfolio_date", "portfolio_late_rate")


PORTFOLIO_AMOUNT_WINDOW_DAYS = 90


def portfolio_amount(invoices: pl.DataFrame) -> pl.DataFrame:
    """``_amount_date, portfolio_log_amount``: across all customers, the mean log amount of the invoices
    issued in the last 90 days, by the end of each issue day."""
    daily = (
        invoices.group_by(pl.col("issue_date").alias("_amount_date"))
        .agg(log_amount().sum().alias("s"), pl.len().alias("n"))
        .sort("_amount_date")
    )
    window = f"{PORTFOLIO_AMOUNT_WINDOW_DAYS}d"
    return daily.select(
        "_amount_date",
        (
            pl.col("s").rolling_sum_by("_amount_date", window_size=window)
            / pl.col("n").rolling_sum_by("_amount_date", window_size=window)
        ).alias("portfolio_log_amount"),
    )
