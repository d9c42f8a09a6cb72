"""Features per (invoice, day), from what was known by the end of that day and nothing later.

The customer's history is turned into dated events (issued, settled, became overdue, turned
out late or on time, disputed, broke a promise). Additive state is a running sum per customer,
read on any day with an as-of join; the invoice's own contribution is taken out, so a feature
means the same at training time (as of the issue date) and at scoring time (as of today).
Order-dependent state (recent lateness, the largest delay, the last payment) is read as of the
day before, so an invoice never sees its own outcome.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from reminder_pipeline.core.history import History, invoices_with_settlement, outcomes, paid_to_date

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
]
RECENT_WINDOW = 3
MEDIAN_WINDOW = 10
EWM_ALPHA = 0.5


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """Null, not NaN or infinity, when there is nothing to divide by."""
    return pl.when(denominator > 0).then(numerator / denominator)


PRIOR_DAYS_LATE, PRIOR_SPREAD, PRIOR_WEIGHT = 0.0, 10.0, 2.0


def _p_late_normal(n: pl.Expr, mean: pl.Expr, squared_deviations: pl.Expr) -> pl.Expr:
    """P(days late > 0) if days late were normal with the customer's mean and spread (from the sum of
    squared deviations from that mean), both shrunk towards a prior (on time, ±10 days) worth two
    invoices; logistic approximation of the normal CDF."""
    total = n + PRIOR_WEIGHT
    shrunk_mean = (mean.fill_null(0.0) * n + PRIOR_DAYS_LATE * PRIOR_WEIGHT) / total
    variance = squared_deviations.fill_null(0.0).clip(lower_bound=0.0)
    shrunk_spread = ((variance + PRIOR_WEIGHT * PRIOR_SPREAD**2) / total).sqrt()
    return 1.0 / (1.0 + (-1.702 * shrunk_mean / shrunk_spread).exp())


def _days(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    return (later - earlier).dt.total_days()


def _event(frame: pl.DataFrame, day: pl.Expr, **deltas: pl.Expr | int) -> pl.DataFrame:
    values = {name: (value if isinstance(value, pl.Expr) else pl.lit(value)) for name, value in deltas.items()}
    return frame.select(
        "customer_id",
        day.alias("date"),
        *[values.get(c, pl.lit(0)).cast(pl.Float64).alias(c) for c in ADDITIVE],
    ).filter(pl.col("date").is_not_null())


def _additive_events(invoices: pl.DataFrame, history: History) -> pl.DataFrame:
    invoices = invoices.join(history.customers.select("customer_id", "paperless_since"), on="customer_id", how="left")
    invoices = invoices.with_columns(
        (pl.col("paperless_since") <= pl.col("issue_date")).fill_null(False).alias("_paperless")
    )
    settled = invoices.filter(pl.col("settled_date").is_not_null())
    on_time = settled.filter(pl.col("settled_date") <= pl.col("due_date"))
    became_late = invoices.filter(pl.col("settled_date").is_null() | (pl.col("settled_date") > pl.col("due_date")))
    amount = pl.col("amount_minor").cast(pl.Float64)
    after_due = pl.col("due_date") + ONE_DAY
    disputes = history.disputes.join(invoices.select("invoice_id", "customer_id", "settled_date"), on="invoice_id")
    broken = history.promises.filter(pl.col("status") == "broken")
    return pl.concat(
        [
            _event(invoices, pl.col("issue_date"), n_issued=1, amt_issued=amount, n_open=1),
            _event(
                settled,
                pl.col("settled_date"),
                n_open=-1,
                n_settled=1,
                sum_days_late=_days(pl.col("settled_date"), pl.col("due_date")),
                sumsq_days_late=_days(pl.col("settled_date"), pl.col("due_date")).pow(2),
                sum_days_to_pay=_days(pl.col("settled_date"), pl.col("issue_date")),
                n_settled_paperless=pl.col("_paperless").cast(pl.Float64),
                sum_days_late_paperless=pl.when(pl.col("_paperless"))
                .then(_days(pl.col("settled_date"), pl.col("due_date")))
                .otherwise(0),
                sumsq_days_late_paperless=pl.when(pl.col("_paperless"))
                .then(_days(pl.col("settled_date"), pl.col("due_date")).pow(2))
                .otherwise(0),
            ),
            _event(on_time, pl.col("settled_date"), n_resolved=1),
            _event(became_late, after_due, n_resolved=1, n_late=1),
            _event(invoices, after_due, n_overdue=1, amt_overdue=amount),
            _event(settled, pl.max_horizontal(after_due, pl.col("settled_date")), n_overdue=-1, amt_overdue=-amount),
            _event(disputes, pl.coalesce("opened_on", "settled_date"), n_disputes=1),
            _event(broken, pl.col("promised_date"), n_broken=1),
        ]
    )


def _running_state(events: pl.DataFrame) -> pl.DataFrame:
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


def _ordered_state(invoices: pl.DataFrame, history: History) -> dict[str, pl.DataFrame]:
    """State that depends on the order of events, one row per (customer, date), sorted by date."""
    settled = (
        invoices.filter(pl.col("settled_date").is_not_null())
        .select(
            "customer_id",
            pl.col("settled_date").alias("date"),
            *TIE_BREAK,
            _days(pl.col("settled_date"), pl.col("due_date")).alias("days_late"),
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


def _delivery_shift(running: pl.DataFrame) -> pl.DataFrame:
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


def _portfolio_late_rate(invoices: pl.DataFrame) -> pl.DataFrame:
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


def _own(at: pl.Expr) -> dict[str, pl.Expr]:
    """The queried invoice's own contribution to each running sum as of ``at``."""
    issued = pl.col("issue_date") <= at
    settled = pl.col("settled_date").is_not_null() & (pl.col("settled_date") <= at)
    on_time = settled & (pl.col("settled_date") <= pl.col("due_date"))
    past_due = pl.col("due_date") < at
    own_paperless = (pl.col("paperless_since") <= pl.col("issue_date")).fill_null(False)
    overdue = past_due & ~settled
    amount = pl.col("amount_minor").cast(pl.Float64)
    return {
        "n_issued": issued.cast(pl.Float64),
        "amt_issued": pl.when(issued).then(amount).otherwise(0.0),
        "n_open": (issued & ~settled).cast(pl.Float64),
        "n_settled": settled.cast(pl.Float64),
        "sum_days_late": pl.when(settled).then(_days(pl.col("settled_date"), pl.col("due_date"))).otherwise(0),
        "sumsq_days_late": pl.when(settled).then(_days(pl.col("settled_date"), pl.col("due_date")).pow(2)).otherwise(0),
        "n_settled_paperless": (settled & own_paperless).cast(pl.Float64),
        "sum_days_late_paperless": pl.when(settled & own_paperless)
        .then(_days(pl.col("settled_date"), pl.col("due_date")))
        .otherwise(0),
        "sumsq_days_late_paperless": pl.when(settled & own_paperless)
        .then(_days(pl.col("settled_date"), pl.col("due_date")).pow(2))
        .otherwise(0),
        "sum_days_to_pay": pl.when(settled).then(_days(pl.col("settled_date"), pl.col("issue_date"))).otherwise(0),
        "n_resolved": (on_time | past_due).cast(pl.Float64),
        "n_late": (past_due & ~on_time).cast(pl.Float64),
        "n_overdue": overdue.cast(pl.Float64),
        "amt_overdue": pl.when(overdue).then(amount).otherwise(0.0),
    }


def _own_disputes(history: History) -> pl.DataFrame:
    """Per invoice: when its dispute became known for history (opened, else settled) and for itself.

    A dispute without an opening date counts for the invoice itself from its issue date: a
    history file's dispute flag says it happened, not when (``--exclude disputed`` leaves it out).
    """
    return history.disputes.group_by("invoice_id").agg(
        pl.col("opened_on").min().alias("dispute_opened_on"),
        pl.col("opened_on").is_null().any().alias("dispute_undated"),
    )


def features_as_of(history: History, queries: pl.DataFrame) -> pl.DataFrame:
    """Features for each ``(invoice_id, as_of)`` query, using only events up to ``as_of``."""
    invoices = invoices_with_settlement(history)
    query = (
        queries.select("invoice_id", pl.col("as_of").cast(pl.Date))
        .join(invoices, on="invoice_id", how="inner")
        .join(history.customers, on="customer_id", how="left")
        .join(_own_disputes(history), on="invoice_id", how="left")
        .with_columns((pl.col("as_of") - ONE_DAY).alias("day_before"))
        .sort("as_of")
    )
    running = _running_state(_additive_events(invoices, history))
    state = query.join_asof(
        running, left_on="as_of", right_on="date", by="customer_id", strategy="backward", check_sortedness=False
    )
    state = state.with_columns([pl.col(c).fill_null(0.0) for c in ADDITIVE])
    state = state.join_asof(_delivery_shift(running), left_on="as_of", right_on="_shift_date", strategy="backward")
    own = _own(pl.col("as_of"))
    state = state.with_columns([(pl.col(c) - own[c]).alias(c) for c in own])
    own_dispute_known = pl.coalesce(
        "dispute_opened_on", pl.when(pl.col("dispute_undated")).then(pl.col("issue_date"))
    ) <= pl.col("as_of")
    # The invoice's own dispute, as counted among the customer's events, is taken back out; only an
    # invoice with a dispute record has one (its settlement alone is no dispute).
    has_dispute = pl.col("dispute_undated").is_not_null()
    history_dispute_own = has_dispute & (pl.coalesce("dispute_opened_on", "settled_date") <= pl.col("as_of"))
    state = state.with_columns(
        (pl.col("n_disputes") - history_dispute_own.fill_null(False).cast(pl.Float64)).alias("n_disputes"),
        own_dispute_known.fill_null(False).alias("_disputed_now"),
    )
    state = state.sort("day_before")
    for name, frame in _ordered_state(invoices, history).items():
        state = state.join_asof(
            frame.rename({"date": f"_{name}_date"}),
            left_on="day_before",
            right_on=f"_{name}_date",
            by="customer_id",
            strategy="backward",
            check_sortedness=False,
        )
    state = state.join_asof(_portfolio_late_rate(invoices), left_on="day_before", right_on="_portfolio_date")
    state = state.sort("as_of").join_asof(
        paid_to_date(history).sort("paid_date"),
        left_on="as_of",
        right_on="paid_date",
        by="invoice_id",
        strategy="backward",
        check_sortedness=False,
    )
    first_issue = invoices.group_by("customer_id").agg(pl.col("issue_date").min().alias("_first_issue"))
    state = state.join(first_issue, on="customer_id", how="left")
    usual_amount = _ratio(pl.col("amt_issued"), pl.col("n_issued"))
    # The invoice went out electronically: the customer had gone paperless by its issue date.
    paperless_now = (pl.col("paperless_since") <= pl.col("issue_date")).fill_null(False)
    same_n, same_sum, same_sumsq = (
        pl.when(paperless_now).then(pl.col(f"{c}_paperless")).otherwise(pl.col(c) - pl.col(f"{c}_paperless"))
        for c in ("n_settled", "sum_days_late", "sumsq_days_late")
    )
    same_mean = _ratio(same_sum, same_n)
    # Every settled delay restated as if delivered on paper (the portfolio's delivery shift taken out),
    # then the shift of this invoice's own delivery put back: the customer's whole history counts, also
    # for the first electronic invoices of a customer who has just gone paperless.
    shift = pl.col("delivery_shift").fill_null(0.0)
    n_settled = pl.col("n_settled")
    paper_sum = pl.col("sum_days_late") - shift * pl.col("n_settled_paperless")
    paper_sumsq = (
        pl.col("sumsq_days_late")
        - 2.0 * shift * pl.col("sum_days_late_paperless")
        + shift.pow(2) * pl.col("n_settled_paperless")
    )
    expected_days_late = _ratio(paper_sum, n_settled) + pl.when(paperless_now).then(shift).otherwise(0.0)
    expected_deviations = paper_sumsq - _ratio(paper_sum.pow(2), n_settled)
    mean_days_late = _ratio(pl.col("sum_days_late"), pl.col("n_settled"))
    std_days_late = (
        (_ratio(pl.col("sumsq_days_late"), pl.col("n_settled")) - mean_days_late.pow(2)).clip(lower_bound=0).sqrt()
    )
    amount = pl.col("amount_minor").cast(pl.Float64)
    return state.select(
        "invoice_id",
        "customer_id",
        "as_of",
        "issue_date",
        "due_date",
        "amount_minor",
        "currency",
        (pl.col("amount_minor") - pl.col("paid_to_date").fill_null(0)).clip(lower_bound=0).alias("balance_minor"),
        pl.col("n_resolved").alias("hist_resolved"),
        _ratio(pl.col("n_late"), pl.col("n_resolved")).alias("hist_late_rate"),
        pl.col("recent_late_rate").alias("hist_recent_late_rate"),
        mean_days_late.alias("hist_mean_days_late"),
        same_mean.alias("hist_mean_days_late_same_delivery"),
        _ratio(pl.col("n_settled_paperless"), pl.col("n_settled")).alias("hist_paperless_share"),
        pl.col("portfolio_late_rate"),
        _p_late_normal(same_n, same_mean, same_sumsq - same_n * same_mean.fill_null(0.0).pow(2)).alias(
            "hist_p_late_same_delivery"
        ),
        expected_days_late.alias("hist_expected_days_late"),
        _p_late_normal(n_settled, expected_days_late, expected_deviations).alias("hist_p_late_expected"),
        pl.col("max_days_late").cast(pl.Float64).alias("hist_max_days_late"),
        pl.col("ewm_days_late").alias("hist_ewm_days_late"),
        pl.col("recent_days_late").alias("hist_recent_days_late"),
        pl.col("last_days_late").alias("hist_last_days_late"),
        pl.col("median_days_late").alias("hist_median_days_late"),
        (pl.col("ewm_days_late") - mean_days_late).alias("hist_delay_trend"),
        std_days_late.alias("hist_std_days_late"),
        _ratio(mean_days_late, std_days_late + 1.0).alias("hist_days_late_z"),
        _ratio(pl.col("sum_days_to_pay"), pl.col("n_settled")).alias("hist_mean_days_to_pay"),
        _days(pl.col("as_of"), pl.col("last_payment_date")).cast(pl.Float64).alias("days_since_last_payment"),
        pl.col("n_open").alias("other_open_invoices"),
        pl.col("n_overdue").alias("other_overdue_invoices"),
        _ratio(pl.col("amt_overdue"), usual_amount).alias("overdue_amount_ratio"),
        pl.col("n_issued").alias("invoices_issued"),
        _days(pl.col("as_of"), pl.col("_first_issue")).clip(lower_bound=0).cast(pl.Float64).alias("tenure_days"),
        (amount / 100.0).log1p().alias("amount_log"),
        _ratio(amount, usual_amount).alias("amount_ratio"),
        _days(pl.col("due_date"), pl.col("issue_date")).cast(pl.Float64).alias("terms_days"),
        pl.col("issue_date").dt.month().cast(pl.Float64).alias("issue_month"),
        (pl.col("issue_date").dt.weekday() - 1).cast(pl.Float64).alias("issue_weekday"),
        (pl.col("due_date").dt.weekday() - 1).cast(pl.Float64).alias("due_weekday"),
        pl.coalesce("country", "region").alias("region"),
        # How this invoice went out. A customer who never went paperless and one who did only after
        # the issue date look the same: telling them apart would reveal the later switch.
        paperless_now.cast(pl.Float64).alias("paperless"),
        pl.col("payment_method"),
        pl.col("n_disputes").alias("disputes_before"),
        pl.col("_disputed_now").cast(pl.Float64).alias("disputed_now"),
        pl.col("n_broken").alias("broken_promises"),
    ).sort("invoice_id", "as_of")


def labelled_invoices(history: History, end: date) -> pl.DataFrame:
    """``invoice_id, issue_date, due_date, late, days_late`` of every invoice with a known outcome at ``end``."""
    return history.invoices.select("invoice_id", "issue_date", "due_date").join(
        outcomes(history, end), on="invoice_id", how="inner"
    )


def examples_for(history: History, labelled: pl.DataFrame) -> pl.DataFrame:
    """Features as of each labelled invoice's issue date, with its labels, in issue order."""
    queries = labelled.select("invoice_id", pl.col("issue_date").alias("as_of"))
    features = features_as_of(history, queries)
    return features.join(labelled.select("invoice_id", "late", "days_late", "settled"), on="invoice_id").sort(
        "issue_date", "invoice_id"
    )


def training_examples(
    history: History, end: date, *, issued_from: date | None = None, issued_before: date | None = None
) -> pl.DataFrame:
    """Invoices with a known outcome at ``end``, with features as of their issue date and the labels."""
    labelled = labelled_invoices(history, end)
    if issued_from is not None:
        labelled = labelled.filter(pl.col("issue_date") >= issued_from)
    if issued_before is not None:
        labelled = labelled.filter(pl.col("issue_date") < issued_before)
    return examples_for(history, labelled)


def open_invoices_on(history: History, day: date) -> pl.DataFrame:
    """``invoice_id`` of invoices issued by ``day`` and not settled by its end."""
    return (
        invoices_with_settlement(history)
        .filter((pl.col("issue_date") <= day) & (pl.col("settled_date").is_null() | (pl.col("settled_date") > day)))
        .select("invoice_id")
    )


def scoring_features(history: History, day: date) -> pl.DataFrame:
    """Features of every invoice open on ``day``, as of ``day``."""
    queries = open_invoices_on(history, day).with_columns(pl.lit(day).alias("as_of"))
    return features_as_of(history, queries)
