"""The floor's as-of features: the product model's feature columns, written once as plain polars.

Every query is an ``(invoice_id, as_of)``: the invoice's customer's state as known by the end of
``as_of``. Counts and sums over the customer's *other* invoices come from joining each query to
them (one row per pair; the invoice itself is simply left out). State that depends on the order of
events (the last delays, the last payment) is read as of the day before from per-customer
sequences with as-of joins, and the portfolio's figures (late share, amounts, how much later
paperless invoices are paid) from daily tables. Nothing here imports the product: it is the
benchmark's floor.
"""

from datetime import date, timedelta

import polars as pl

ONE_DAY = timedelta(days=1)
MIN_TERMS_DAYS = 7
RECENT, MEDIAN_OF, EWM_ALPHA = 3, 10, 0.5
DELIVERY_PRIOR_WEIGHT = 5.0
PRIOR_MEAN, PRIOR_SPREAD, PRIOR_WEIGHT = 0.0, 10.0, 2.0
LATE_RATE_WINDOW, AMOUNT_WINDOW = "60d", "90d"
ORDER = ("issue_date", "invoice_id")
"""Events of a customer on one day in issue order, then by invoice."""


def days(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    return (later - earlier).dt.total_days()


def per(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """Null when there is nothing to divide by."""
    return pl.when(denominator > 0).then(numerator / denominator)


def history_invoices(invoices: pl.DataFrame, customers: pl.DataFrame) -> pl.DataFrame:
    """Invoices (with ``settled_date``) and what every feature reads of each one."""
    days_late = days(pl.col("settled_date"), pl.col("due_date"))
    days_to_pay = days(pl.col("settled_date"), pl.col("issue_date"))
    terms = days(pl.col("due_date"), pl.col("issue_date")).clip(lower_bound=MIN_TERMS_DAYS).cast(pl.Float64)
    late = pl.col("settled_date").is_null() | (pl.col("settled_date") > pl.col("due_date"))
    return invoices.join(customers.select("customer_id", "paperless_since"), on="customer_id", how="left").select(
        "invoice_id",
        "customer_id",
        "issue_date",
        "due_date",
        "settled_date",
        "amount_minor",
        "currency",
        "has_dispute",
        "dispute_opened_on",
        pl.col("amount_minor").cast(pl.Float64).alias("amount"),
        (pl.col("amount_minor").cast(pl.Float64).clip(lower_bound=0.0) / 100.0).log1p().alias("log_amount"),
        terms.alias("terms"),
        (pl.col("paperless_since") <= pl.col("issue_date")).fill_null(False).alias("paperless"),
        days_late.alias("days_late"),
        days_to_pay.alias("days_to_pay"),
        late.alias("late"),
        pl.when(late).then(pl.col("due_date") + ONE_DAY).otherwise(pl.col("settled_date")).alias("resolved_on"),
        pl.when(pl.col("settled_date").is_not_null())
        .then(pl.max_horizontal(pl.col("due_date") + ONE_DAY, pl.col("settled_date")))
        .alias("overdue_ends"),
        pl.coalesce("dispute_opened_on", "settled_date").alias("dispute_counted_on"),
    )


def _other_invoices(queries: pl.DataFrame, invoices: pl.DataFrame) -> pl.DataFrame:
    """Per query: counts and sums over the customer's other invoices, as known by the end of ``as_of``."""
    t = pl.col("as_of")
    issued = pl.col("issue_date") <= t
    settled = (pl.col("settled_date") <= t).fill_null(False)
    electronic = settled & pl.col("paperless")
    overdue = (pl.col("due_date") + ONE_DAY <= t).cast(pl.Float64) - (pl.col("overdue_ends") <= t).fill_null(
        False
    ).cast(pl.Float64)
    late_by_now = pl.col("late") & (pl.col("due_date") + ONE_DAY <= t)

    def when(condition: pl.Expr, value: pl.Expr | float = 1.0) -> pl.Expr:
        return pl.when(condition).then(value).otherwise(0.0)

    pairs = (
        queries.select("invoice_id", "customer_id", "as_of")
        .join(invoices, on="customer_id", suffix="_other")
        .filter(pl.col("invoice_id") != pl.col("invoice_id_other"))
    )
    sums = {
        "n_issued": when(issued),
        "amt_issued": when(issued, pl.col("amount")),
        "n_open": issued.cast(pl.Float64) - settled.cast(pl.Float64),
        "n_settled": when(settled),
        "sum_days_late": when(settled, pl.col("days_late")),
        "sumsq_days_late": when(settled, pl.col("days_late").pow(2)),
        "n_settled_paperless": when(electronic),
        "sum_days_late_paperless": when(electronic, pl.col("days_late")),
        "sumsq_days_late_paperless": when(electronic, pl.col("days_late").pow(2)),
        "sum_days_to_pay": when(settled, pl.col("days_to_pay")),
        "sum_late_to_terms": when(settled, pl.col("days_late") / pl.col("terms")),
        "sum_pay_to_terms": when(settled, pl.col("days_to_pay") / pl.col("terms")),
        "sum_log_amount": when(issued, pl.col("log_amount")),
        "sumsq_log_amount": when(issued, pl.col("log_amount").pow(2)),
        "n_resolved": when(pl.col("resolved_on") <= t),
        "n_late": when(late_by_now),
        "n_overdue": overdue,
        "amt_overdue": overdue * pl.col("amount"),
        "n_disputes": when((pl.col("dispute_counted_on") <= t).fill_null(False) & pl.col("has_dispute")),
    }
    return pairs.group_by("invoice_id").agg(v.sum().alias(k) for k, v in sums.items())


def _sequences(invoices: pl.DataFrame, payments: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Per customer and date, the state that depends on the order of events, as of the end of that date."""
    settled = (
        invoices.filter(pl.col("settled_date").is_not_null())
        .sort("customer_id", "settled_date", *ORDER)
        .select(
            "customer_id",
            pl.col("settled_date").alias("date"),
            pl.col("days_late").cum_max().over("customer_id").cast(pl.Float64).alias("max_days_late"),
            pl.col("days_late").cast(pl.Float64).ewm_mean(alpha=EWM_ALPHA).over("customer_id").alias("ewm_days_late"),
            pl.col("days_late")
            .cast(pl.Float64)
            .rolling_mean(RECENT, min_samples=1)
            .over("customer_id")
            .alias("recent"),
            pl.col("days_late").cast(pl.Float64).alias("last_days_late"),
            pl.col("days_late")
            .cast(pl.Float64)
            .rolling_median(MEDIAN_OF, min_samples=1)
            .over("customer_id")
            .alias("median_days_late"),
        )
    )
    resolved = invoices.sort("customer_id", "resolved_on", *ORDER).select(
        "customer_id",
        pl.col("resolved_on").alias("date"),
        pl.col("late").cast(pl.Float64).rolling_mean(RECENT, min_samples=1).over("customer_id").alias("recent_late"),
    )
    # a prepayment counts as the customer's payment once its invoice exists
    paid = (
        payments.select("invoice_id", "paid_date")
        .join(invoices.select("invoice_id", "customer_id", "issue_date"), on="invoice_id")
        .select("customer_id", pl.max_horizontal("paid_date", "issue_date").alias("date"))
    )
    paid = paid.with_columns(pl.col("date").alias("last_payment_date"))
    return {
        name: frame.unique(["customer_id", "date"], keep="last", maintain_order=True).sort("date")
        for name, frame in {"settled": settled, "resolved": resolved, "paid": paid}.items()
    }


def _delivery_shift(invoices: pl.DataFrame) -> pl.DataFrame:
    """By date: how many days later electronic invoices were settled than the same customers' paper ones,
    pooled over customers with both (each weighing ``n_paper * n_electronic / n``), shrunk towards none."""
    running = (
        invoices.filter(pl.col("settled_date").is_not_null())
        .sort("customer_id", "settled_date")
        .select(
            "customer_id",
            pl.col("settled_date").alias("date"),
            pl.col("paperless").cast(pl.Float64).cum_sum().over("customer_id").alias("n_e"),
            pl.when(pl.col("paperless"))
            .then(pl.col("days_late"))
            .otherwise(0)
            .cum_sum()
            .over("customer_id")
            .alias("s_e"),
            (~pl.col("paperless")).cast(pl.Float64).cum_sum().over("customer_id").alias("n_p"),
            pl.when(pl.col("paperless"))
            .then(0)
            .otherwise(pl.col("days_late"))
            .cum_sum()
            .over("customer_id")
            .alias("s_p"),
        )
        .unique(["customer_id", "date"], keep="last", maintain_order=True)
    )
    both = (pl.col("n_e") > 0) & (pl.col("n_p") > 0)
    weight = pl.when(both).then(pl.col("n_p") * pl.col("n_e") / (pl.col("n_p") + pl.col("n_e"))).otherwise(0.0)
    gap = pl.when(both).then(pl.col("s_e") / pl.col("n_e") - pl.col("s_p") / pl.col("n_p")).otherwise(0.0)
    changes = running.select("customer_id", "date", weight.alias("w"), (weight * gap).alias("wd")).with_columns(
        (pl.col(c) - pl.col(c).shift(1).over("customer_id").fill_null(0.0)).alias(c) for c in ("w", "wd")
    )
    return (
        changes.group_by("date")
        .agg(pl.col("w", "wd").sum())
        .sort("date")
        .select("date", (pl.col("wd").cum_sum() / (pl.col("w").cum_sum() + DELIVERY_PRIOR_WEIGHT)).alias("shift"))
    )


def _rolling_mean(invoices: pl.DataFrame, day: str, value: pl.Expr, window: str, name: str) -> pl.DataFrame:
    """``date, <name>``: the mean of ``value`` over the invoices whose ``day`` is in the ``window`` up to each date."""
    daily = invoices.group_by(pl.col(day).alias("date")).agg(value.sum().alias("total"), pl.len().alias("n"))
    rolling = pl.col("total").rolling_sum_by("date", window) / pl.col("n").rolling_sum_by("date", window)
    return daily.sort("date").select("date", rolling.alias(name))


def _p_late_normal(n: pl.Expr, mean: pl.Expr, deviations: pl.Expr) -> pl.Expr:
    """P(days late > 0) for a normal delay with the customer's mean and spread, both shrunk towards on time
    ±10 days worth two invoices (logistic approximation of the normal CDF)."""
    total = n + PRIOR_WEIGHT
    mean = (mean.fill_null(0.0) * n + PRIOR_MEAN * PRIOR_WEIGHT) / total
    spread = ((deviations.fill_null(0.0).clip(lower_bound=0.0) + PRIOR_WEIGHT * PRIOR_SPREAD**2) / total).sqrt()
    return 1.0 / (1.0 + (-1.702 * mean / spread).exp())


def _columns() -> dict[str, pl.Expr]:
    """The model's features from the joined state (names as the product's catalogue has them)."""
    c = pl.col
    paperless = c("paperless")
    same_n, same_sum, same_sumsq = (
        pl.when(paperless).then(c(f"{s}_paperless")).otherwise(c(s) - c(f"{s}_paperless"))
        for s in ("n_settled", "sum_days_late", "sumsq_days_late")
    )
    same_mean = per(same_sum, same_n)
    shift = c("shift").fill_null(0.0)
    paper_sum = c("sum_days_late") - shift * c("n_settled_paperless")
    paper_sumsq = (
        c("sumsq_days_late") - 2.0 * shift * c("sum_days_late_paperless") + shift.pow(2) * c("n_settled_paperless")
    )
    expected = per(paper_sum, c("n_settled")) + pl.when(paperless).then(shift).otherwise(0.0)
    mean_late = per(c("sum_days_late"), c("n_settled"))
    std_late = (per(c("sumsq_days_late"), c("n_settled")) - mean_late.pow(2)).clip(lower_bound=0).sqrt()
    mean_log = per(c("sum_log_amount"), c("n_issued"))
    std_log = (per(c("sumsq_log_amount"), c("n_issued")) - mean_log.pow(2)).clip(lower_bound=0).sqrt()
    usual = per(c("amt_issued"), c("n_issued"))
    late_rate = per(c("n_late"), c("n_resolved"))
    return {
        "hist_resolved": c("n_resolved"),
        "hist_late_rate": late_rate,
        "hist_recent_late_rate": c("recent_late"),
        "hist_mean_days_late": mean_late,
        "hist_max_days_late": c("max_days_late"),
        "hist_ewm_days_late": c("ewm_days_late"),
        "hist_mean_days_late_same_delivery": same_mean,
        "hist_p_late_same_delivery": _p_late_normal(
            same_n, same_mean, same_sumsq - same_n * same_mean.fill_null(0.0).pow(2)
        ),
        "hist_expected_days_late": expected,
        "hist_p_late_expected": _p_late_normal(
            c("n_settled"), expected, paper_sumsq - per(paper_sum.pow(2), c("n_settled"))
        ),
        "hist_paperless_share": per(c("n_settled_paperless"), c("n_settled")),
        "hist_late_trend": c("recent_late") - late_rate,
        "hist_lateness_to_terms": per(c("sum_late_to_terms"), c("n_settled")),
        "hist_days_to_pay_to_terms": per(c("sum_pay_to_terms"), c("n_settled")),
        "hist_delay_trend_to_terms": (c("ewm_days_late") - mean_late) / c("terms"),
        "portfolio_late_rate": c("portfolio_late_rate"),
        "hist_median_days_late": c("median_days_late"),
        "hist_delay_trend": c("ewm_days_late") - mean_late,
        "hist_recent_days_late": c("recent"),
        "hist_last_days_late": c("last_days_late"),
        "hist_std_days_late": std_late,
        "hist_days_late_z": per(mean_late, std_late + 1.0),
        "hist_mean_days_to_pay": per(c("sum_days_to_pay"), c("n_settled")),
        "days_since_last_payment": days(c("as_of"), c("last_payment_date")).cast(pl.Float64),
        "other_open_invoices": c("n_open"),
        "other_overdue_invoices": c("n_overdue"),
        "overdue_amount_ratio": per(c("amt_overdue"), usual),
        "invoices_issued": c("n_issued"),
        "tenure_days": days(c("as_of"), c("first_issue")).clip(lower_bound=0).cast(pl.Float64),
        "amount_log": (c("amount") / 100.0).log1p(),
        "amount_ratio": per(c("amount"), usual),
        "amount_z": per(c("log_amount") - mean_log, std_log + 0.1),
        "amount_vs_portfolio": c("log_amount") - c("portfolio_log_amount"),
        "terms_days": days(c("due_date"), c("issue_date")).cast(pl.Float64),
        "issue_month": c("issue_date").dt.month().cast(pl.Float64),
        "issue_weekday": (c("issue_date").dt.weekday() - 1).cast(pl.Float64),
        "due_weekday": (c("due_date").dt.weekday() - 1).cast(pl.Float64),
        "region": pl.coalesce("country", "region"),
        "paperless": paperless.cast(pl.Float64),
        "payment_method": c("payment_method"),
        "disputes_before": c("n_disputes"),
        "disputed_now": (pl.when(c("has_dispute")).then(pl.coalesce("dispute_opened_on", "issue_date")) <= c("as_of"))
        .fill_null(False)
        .cast(pl.Float64),
        "broken_promises": pl.lit(0.0),  # the billing exports carry no promises to pay
    }


def features_as_of(
    invoices: pl.DataFrame, customers: pl.DataFrame, payments: pl.DataFrame, queries: pl.DataFrame
) -> pl.DataFrame:
    """Per ``(invoice_id, as_of)`` query: the invoice, its balance that day and every model feature.

    ``invoices`` come from :func:`history_invoices`, ``payments`` are ``invoice_id, paid_date, paid_to_date``
    (money received per invoice by the end of each payment day)."""
    query = (
        queries.join(invoices, on="invoice_id")
        .join(customers.select("customer_id", "country", "region", "payment_method"), on="customer_id", how="left")
        .with_columns((pl.col("as_of") - ONE_DAY).alias("day_before"))
    )
    sums = _other_invoices(query, invoices)
    sequences = _sequences(invoices, payments)
    late_rate = _rolling_mean(invoices, "resolved_on", pl.col("late"), LATE_RATE_WINDOW, "portfolio_late_rate")
    amount = _rolling_mean(invoices, "issue_date", pl.col("log_amount"), AMOUNT_WINDOW, "portfolio_log_amount")
    first_issue = invoices.group_by("customer_id").agg(pl.col("issue_date").min().alias("first_issue"))
    state = query.join(sums, on="invoice_id", how="left").with_columns(pl.col(sums.columns[1:]).fill_null(0.0))
    state = state.join(first_issue, on="customer_id", how="left").sort("day_before")
    for frame in sequences.values():
        state = state.join_asof(
            frame, left_on="day_before", right_on="date", by="customer_id", check_sortedness=False
        ).drop("date")
    state = state.join_asof(late_rate, left_on="day_before", right_on="date").drop("date")
    state = state.join_asof(amount, left_on="day_before", right_on="date").drop("date")
    state = state.sort("as_of").join_asof(_delivery_shift(invoices), left_on="as_of", right_on="date").drop("date")
    state = state.join_asof(
        payments.sort("paid_date"), left_on="as_of", right_on="paid_date", by="invoice_id", check_sortedness=False
    ).with_columns(
        (pl.col("amount_minor") - pl.col("paid_to_date").fill_null(0)).clip(lower_bound=0).alias("balance_minor")
    )
    return state.select(
        "invoice_id",
        "customer_id",
        "as_of",
        "issue_date",
        "due_date",
        "amount_minor",
        "currency",
        "balance_minor",
        **_columns(),
    )


def open_on(invoices: pl.DataFrame, day: date) -> pl.DataFrame:
    """``invoice_id, as_of`` of every invoice issued by ``day`` and not settled by its end."""
    still_open = pl.col("settled_date").is_null() | (pl.col("settled_date") > day)
    return invoices.filter((pl.col("issue_date") <= day) & still_open).select("invoice_id", pl.lit(day).alias("as_of"))
