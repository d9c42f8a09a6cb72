"""Features per (invoice, day), from what was known by the end of that day and nothing later.

The customer's history is turned into dated events (issued, settled, became overdue, turned
out late or on time, disputed, broke a promise). Additive state is a running sum per customer,
read on any day with an as-of join; the invoice's own contribution is taken out, so a feature
means the same at training time (as of the issue date) and at scoring time (as of today).
Order-dependent state (recent lateness, the largest delay, the last payment) is read as of the
day before, so an invoice never sees its own outcome.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from reminder_pipeline.core.features.state import (
    ADDITIVE,
    ONE_DAY,
    additive_events,
    days_between,
    delivery_shift,
    log_amount,
    ordered_state,
    portfolio_amount,
    portfolio_late_rate,
    ratio,
    running_state,
    terms_scale,
)
from reminder_pipeline.core.history import History, invoices_with_settlement, outcomes, paid_to_date

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
        "sum_days_late": pl.when(settled).then(days_between(pl.col("settled_date"), pl.col("due_date"))).otherwise(0),
        "sumsq_days_late": pl.when(settled)
        .then(days_between(pl.col("settled_date"), pl.col("due_date")).pow(2))
        .otherwise(0),
        "n_settled_paperless": (settled & own_paperless).cast(pl.Float64),
        "sum_days_late_paperless": pl.when(settled & own_paperless)
        .then(days_between(pl.col("settled_date"), pl.col("due_date")))
        .otherwise(0),
        "sumsq_days_late_paperless": pl.when(settled & own_paperless)
        .then(days_between(pl.col("settled_date"), pl.col("due_date")).pow(2))
        .otherwise(0),
        "sum_days_to_pay": pl.when(settled)
        .then(days_between(pl.col("settled_date"), pl.col("issue_date")))
        .otherwise(0),
        "sum_late_to_terms": pl.when(settled)
        .then(days_between(pl.col("settled_date"), pl.col("due_date")) / terms_scale())
        .otherwise(0.0),
        "sum_pay_to_terms": pl.when(settled)
        .then(days_between(pl.col("settled_date"), pl.col("issue_date")) / terms_scale())
        .otherwise(0.0),
        "sum_log_amount": pl.when(issued).then(log_amount()).otherwise(0.0),
        "sumsq_log_amount": pl.when(issued).then(log_amount().pow(2)).otherwise(0.0),
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
    running = running_state(additive_events(invoices, history))
    state = query.join_asof(
        running, left_on="as_of", right_on="date", by="customer_id", strategy="backward", check_sortedness=False
    )
    state = state.with_columns([pl.col(c).fill_null(0.0) for c in ADDITIVE])
    state = state.join_asof(delivery_shift(running), left_on="as_of", right_on="_shift_date", strategy="backward")
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
    for name, frame in ordered_state(invoices, history).items():
        state = state.join_asof(
            frame.rename({"date": f"_{name}_date"}),
            left_on="day_before",
            right_on=f"_{name}_date",
            by="customer_id",
            strategy="backward",
            check_sortedness=False,
        )
    state = state.join_asof(portfolio_late_rate(invoices), left_on="day_before", right_on="_portfolio_date")
    state = state.join_asof(portfolio_amount(invoices), left_on="day_before", right_on="_amount_date")
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
    usual_amount = ratio(pl.col("amt_issued"), pl.col("n_issued"))
    # The invoice went out electronically: the customer had gone paperless by its issue date.
    paperless_now = (pl.col("paperless_since") <= pl.col("issue_date")).fill_null(False)
    same_n, same_sum, same_sumsq = (
        pl.when(paperless_now).then(pl.col(f"{c}_paperless")).otherwise(pl.col(c) - pl.col(f"{c}_paperless"))
        for c in ("n_settled", "sum_days_late", "sumsq_days_late")
    )
    same_mean = ratio(same_sum, same_n)
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
    expected_days_late = ratio(paper_sum, n_settled) + pl.when(paperless_now).then(shift).otherwise(0.0)
    expected_deviations = paper_sumsq - ratio(paper_sum.pow(2), n_settled)
    mean_days_late = ratio(pl.col("sum_days_late"), pl.col("n_settled"))
    std_days_late = (
        (ratio(pl.col("sumsq_days_late"), pl.col("n_settled")) - mean_days_late.pow(2)).clip(lower_bound=0).sqrt()
    )
    amount = pl.col("amount_minor").cast(pl.Float64)
    mean_log_amount = ratio(pl.col("sum_log_amount"), pl.col("n_issued"))
    std_log_amount = (
        (ratio(pl.col("sumsq_log_amount"), pl.col("n_issued")) - mean_log_amount.pow(2)).clip(lower_bound=0).sqrt()
    )
    late_rate = ratio(pl.col("n_late"), pl.col("n_resolved"))
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
        late_rate.alias("hist_late_rate"),
        pl.col("recent_late_rate").alias("hist_recent_late_rate"),
        (pl.col("recent_late_rate") - late_rate).alias("hist_late_trend"),
        ratio(pl.col("sum_late_to_terms"), pl.col("n_settled")).alias("hist_lateness_to_terms"),
        ratio(pl.col("sum_pay_to_terms"), pl.col("n_settled")).alias("hist_days_to_pay_to_terms"),
        ((pl.col("ewm_days_late") - mean_days_late) / terms_scale()).alias("hist_delay_trend_to_terms"),
        mean_days_late.alias("hist_mean_days_late"),
        same_mean.alias("hist_mean_days_late_same_delivery"),
        ratio(pl.col("n_settled_paperless"), pl.col("n_settled")).alias("hist_paperless_share"),
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
        ratio(mean_days_late, std_days_late + 1.0).alias("hist_days_late_z"),
        ratio(pl.col("sum_days_to_pay"), pl.col("n_settled")).alias("hist_mean_days_to_pay"),
        days_between(pl.col("as_of"), pl.col("last_payment_date")).cast(pl.Float64).alias("days_since_last_payment"),
        pl.col("n_open").alias("other_open_invoices"),
        pl.col("n_overdue").alias("other_overdue_invoices"),
        ratio(pl.col("amt_overdue"), usual_amount).alias("overdue_amount_ratio"),
        pl.col("n_issued").alias("invoices_issued"),
        days_between(pl.col("as_of"), pl.col("_first_issue")).clip(lower_bound=0).cast(pl.Float64).alias("tenure_days"),
        (amount / 100.0).log1p().alias("amount_log"),
        ratio(amount, usual_amount).alias("amount_ratio"),
        ratio(log_amount() - mean_log_amount, std_log_amount + 0.1).alias("amount_z"),
        (log_amount() - pl.col("portfolio_log_amount")).alias("amount_vs_portfolio"),
        days_between(pl.col("due_date"), pl.col("issue_date")).cast(pl.Float64).alias("terms_days"),
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
