"""Scores for the invoices open on a day: from the risk model when one is usable, else the rule score."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from reminder_pipeline.core.model.explain import top_reasons
from reminder_pipeline.core.model.risk_model import RiskModel
from reminder_pipeline.core.model.rules import PRIOR_LATE_RATE, rule_days_late, rule_p_late, rule_terms
from reminder_pipeline.core.segments import risk_band

RULE_SCORER = "rule"


@dataclass(frozen=True)
class ScoredDay:
    invoices: pl.DataFrame
    customers: pl.DataFrame
    scorer: str


def _rule_contributions(features: pl.DataFrame) -> tuple[list[str], np.ndarray]:
    terms = rule_terms(features).with_columns(pl.col("hist_late_rate") - PRIOR_LATE_RATE)
    return terms.columns, terms.to_numpy()


REASON_BUDGET = 1_000_000
"""Rows × classifier trees the model's reasons may cost a day (about 2,700 rows for 375 trees).
TreeSHAP (``pred_contrib``) grows with both and costs many times what scoring does (see
``benchmarks/results/daily_run.md``), so the model explains the customers someone reads first,
within the budget: the ``MOST_AT_RISK`` likeliest to pay late (the run's metadata), then those
with the most money at risk (the dashboard's worklist opens sorted by expected loss). The others
at risk get the rule score's reasons, which cost next to nothing, unless it finds none: then the
model explains them too, whatever the budget, so no customer at risk (none the plan contacts) is
left without a reason the model would give. No score depends on which reasons a customer gets."""
MOST_AT_RISK = 10
"""The customers most likely to pay late, shown with their reasons in the run's metadata."""


def relative_exposure(p_late: pl.Expr, balance_minor: pl.Expr, currency: pl.Expr) -> pl.Expr:
    """P(late) × balance in multiples of the median open balance in the same currency.

    Amounts in different currencies cannot be compared without exchange rates; relative to what
    is usual in each currency they can, well enough to decide whom to look at first.
    """
    usual = balance_minor.cast(pl.Float64).median().over(currency).clip(lower_bound=1.0)
    return p_late * balance_minor.cast(pl.Float64) / usual


def _explain(rows: pl.DataFrame, model: RiskModel | None) -> pl.DataFrame:
    if rows.height == 0:
        return rows.select("customer_id").with_columns(pl.lit([], dtype=pl.List(pl.String)).alias("reasons"))
    names, contributions = (model.features, model.contributions(rows)) if model else _rule_contributions(rows)
    return rows.select("customer_id").with_columns(top_reasons(rows, names, contributions))


def explained_by_model(
    riskiest: pl.DataFrame, untold: pl.DataFrame, model: RiskModel | None, budget: int
) -> pl.DataFrame:
    """``invoice_id`` of the riskiest invoices the model explains: the likeliest to pay late and those the rule
    score finds no reason for (``untold``), then the most money at risk while ``budget`` rows × trees lasts."""
    if model is None:
        return riskiest.select("invoice_id").clear()
    rows = budget // max(1, model.classifier.num_trees())
    likeliest = riskiest.sort("p_late", "customer_id", descending=[True, False]).head(MOST_AT_RISK)
    needed = pl.concat(
        [likeliest.select("invoice_id"), riskiest.join(untold, on="customer_id", how="semi").select("invoice_id")]
    ).unique(maintain_order=True)
    by_money = riskiest.sort("money_at_risk", "customer_id", descending=[True, False]).select("invoice_id")
    rest = by_money.join(needed, on="invoice_id", how="anti", maintain_order="left")
    return pl.concat([needed, rest.head(max(0, rows - needed.height))])


def _reasons(features: pl.DataFrame, riskiest: pl.DataFrame, model: RiskModel | None, budget: int) -> pl.DataFrame:
    """``customer_id, reasons`` from each customer's riskiest invoice: the rule score's, which cost next to
    nothing, replaced by the model's for those ``explained_by_model`` picks."""
    rows = features.join(riskiest.select("invoice_id"), on="invoice_id", how="semi")
    by_rule = _explain(rows, None)
    untold = by_rule.filter(pl.col("reasons").list.len() == 0).select("customer_id")
    by_model = _explain(
        rows.join(explained_by_model(riskiest, untold, model, budget), on="invoice_id", how="semi"), model
    )
    return pl.concat([by_rule.join(by_model.select("customer_id"), on="customer_id", how="anti"), by_model])


def score_day(
    features: pl.DataFrame,
    day: date,
    bands: dict[str, float],
    model: RiskModel | None,
    scorer: str,
    *,
    reason_budget: int = REASON_BUDGET,
) -> ScoredDay:
    """Per open invoice: P(late), expected days late, predicted payment date. Per customer: the balance-weighted
    P(late) and days late, the band, and the reasons behind the riskiest invoice.

    Reasons explain risk, so customers in the lowest band get none: explaining every invoice
    (TreeSHAP) would cost more than scoring all of them. The model explains those within
    ``reason_budget`` (see ``REASON_BUDGET``), the rule score the others at risk.
    """
    if model is not None:
        p_late, days = model.scores(features)
    else:
        p_late, days = rule_p_late(features).to_numpy(), rule_days_late(features).to_numpy()
        scorer = RULE_SCORER
    invoices = features.select("invoice_id", "customer_id", "due_date", "currency", "balance_minor").with_columns(
        pl.Series("p_late", p_late, dtype=pl.Float64),
        pl.Series("expected_days_late", days, dtype=pl.Float64),
    )
    invoices = invoices.with_columns(
        pl.max_horizontal(
            pl.lit(day + timedelta(days=1)),
            pl.col("due_date") + pl.duration(days=pl.col("expected_days_late").round(0).cast(pl.Int64)),
        ).alias("predicted_payment_date")
    )
    weight = pl.col("balance_minor").cast(pl.Float64).clip(lower_bound=1.0)
    exposure = relative_exposure(pl.col("p_late"), pl.col("balance_minor"), pl.col("currency")).alias("exposure")
    customers = (
        invoices.with_columns(exposure)
        .group_by("customer_id")
        .agg(
            ((pl.col("p_late") * weight).sum() / weight.sum()).alias("p_late"),
            ((pl.col("expected_days_late") * weight).sum() / weight.sum()).alias("expected_days_late"),
            pl.len().alias("open_invoices"),
            pl.col("predicted_payment_date").max().alias("predicted_payment_date"),
            pl.col("invoice_id").sort_by("p_late", descending=True).first().alias("invoice_id"),
            pl.col("exposure").sum().alias("money_at_risk"),
        )
        .with_columns(risk_band(pl.col("p_late"), bands).alias("risk_band"))
    )
    lowest = next(iter(bands))
    explained = _reasons(features, customers.filter(pl.col("risk_band") != lowest), model, reason_budget)
    customers = (
        customers.join(explained, on="customer_id", how="left")
        .with_columns(pl.col("reasons").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .drop("invoice_id", "money_at_risk")
        .sort("customer_id")
    )
    return ScoredDay(invoices, customers, scorer)
