"""A day's scores: the rule score stands in without a model; customers get weighted P(late), a band, reasons."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.features.build import scoring_features, training_examples
from reminder_pipeline.core.features.catalogue import select_features
from reminder_pipeline.core.history import History
from reminder_pipeline.core.model.fitting import fit_risk_model
from reminder_pipeline.core.model.risk_model import RiskModel
from reminder_pipeline.core.scoring import MOST_AT_RISK, RULE_SCORER, relative_exposure, score_day
from reminder_pipeline.ingestion.history_file import load_history_file
from reminder_pipeline_tests.core.model.histories.cadences import BY_NAME as HISTORIES
from reminder_pipeline_tests.core.model.histories.cadences import path_of

DAY = date(2026, 6, 1)
BANDS = load_policy().segmentation.risk_bands


def _history() -> History:
    """LATE paid five earlier invoices 30 days late and owes two overdue ones; PUNCTUAL always paid on time."""
    invoices, payments = [], []
    for customer, delay in (("LATE", 30), ("PUNCTUAL", -2)):
        for n in range(5):
            issued = DAY - timedelta(days=200 - 30 * n)
            invoice = f"{customer}-{n}"
            invoices.append((invoice, customer, issued, issued + timedelta(days=30), 10_000))
            payments.append((invoice, 10_000, issued + timedelta(days=30 + delay), "card"))
    invoices += [
        ("LATE-OPEN-1", "LATE", DAY - timedelta(days=50), DAY - timedelta(days=20), 30_000),
        ("LATE-OPEN-2", "LATE", DAY - timedelta(days=35), DAY - timedelta(days=5), 10_000),
        ("PUNCTUAL-OPEN", "PUNCTUAL", DAY - timedelta(days=10), DAY + timedelta(days=20), 10_000),
    ]
    return History.of(
        invoices=pl.DataFrame(
            invoices, schema=["invoice_id", "customer_id", "issue_date", "due_date", "amount_minor"], orient="row"
        ).with_columns(pl.lit("EUR").alias("currency")),
        payments=pl.DataFrame(payments, schema=["invoice_id", "amount_minor", "paid_date", "method"], orient="row"),
    )


def test_without_a_model_the_rule_score_ranks_the_late_payer_riskier() -> None:
    scored = score_day(scoring_features(_history(), DAY), DAY, BANDS, None, "ignored")
    assert scored.scorer == RULE_SCORER
    customers = {r["customer_id"]: r for r in scored.customers.iter_rows(named=True)}
    late, punctual = customers["LATE"], customers["PUNCTUAL"]
    assert late["p_late"] > punctual["p_late"]
    assert late["open_invoices"] == 2
    assert late["risk_band"] != "low"
    assert late["reasons"], "a risky customer's score comes with reasons"
    assert punctual["risk_band"] == "low"
    assert punctual["reasons"] == [], "the lowest band is not explained"
    assert min(scored.invoices["predicted_payment_date"].to_list()) > DAY, "never predicted to pay in the past"


def test_a_customers_p_late_is_weighted_by_the_balance_of_each_invoice() -> None:
    scored = score_day(scoring_features(_history(), DAY), DAY, BANDS, None, "ignored")
    invoices = scored.invoices.filter(pl.col("customer_id") == "LATE")
    weighted = (invoices["p_late"] * invoices["balance_minor"]).sum() / invoices["balance_minor"].sum()
    late = scored.customers.filter(pl.col("customer_id") == "LATE")["p_late"].item()
    assert abs(late - weighted) < 1e-12


def test_exposure_compares_amounts_within_their_own_currency() -> None:
    frame = pl.DataFrame(
        {
            "p_late": [0.5, 0.5, 0.5, 0.5],
            "balance": [100, 300, 10_000, 30_000],
            "currency": ["EUR", "EUR", "JPY", "JPY"],
        }
    )
    exposure = frame.select(relative_exposure(pl.col("p_late"), pl.col("balance"), pl.col("currency")))
    eur, jpy = exposure[:2, 0].to_list(), exposure[2:, 0].to_list()
    assert eur == jpy, "the same shape of debts in two currencies is the same exposure"


def _scored_world() -> tuple[pl.DataFrame, RiskModel, date]:
    """A fixed-seed world (the monthly-statements history): a model fit before the split, the split day's features."""
    cadence = HISTORIES["monthly_statements"]
    history = load_history_file(path_of(cadence)).history
    model = fit_risk_model(training_examples(history, cadence.split), select_features([]))
    return scoring_features(history.known_on(cadence.split), cadence.split), model, cadence.split


def test_reasons_within_a_budget_change_no_score_and_keep_the_models_reasons_for_the_likeliest() -> None:
    features, model, day = _scored_world()
    every = score_day(features, day, BANDS, model, "v1", reason_budget=10**12)
    budgeted = score_day(features, day, BANDS, model, "v1", reason_budget=0)
    assert every.invoices.equals(budgeted.invoices), "P(late), days late and payment dates are the same"
    assert every.customers.drop("reasons").equals(budgeted.customers.drop("reasons"))
    assert np.array_equal(budgeted.invoices["p_late"].to_numpy(), model.p_late(features)), "the model's own P(late)"
    at_risk = budgeted.customers.filter(pl.col("risk_band") != next(iter(BANDS)))
    assert at_risk.height > 3 * MOST_AT_RISK, "the world has customers beyond the budget to tell apart"
    likeliest = at_risk.sort("p_late", "customer_id", descending=[True, False]).head(MOST_AT_RISK)["customer_id"]

    def reasons_of(frame: pl.DataFrame) -> dict[str, list[str]]:
        return dict(
            frame.filter(pl.col("customer_id").is_in(likeliest.to_list())).select("customer_id", "reasons").iter_rows()
        )

    assert reasons_of(budgeted.customers) == reasons_of(every.customers), "the likeliest keep the model's reasons"
    differ = every.customers.join(budgeted.customers, on="customer_id").filter(
        pl.col("reasons") != pl.col("reasons_right")
    )
    assert differ.height > 0, "beyond the budget the rule score's reasons stand in"
    untold = {
        name: set(
            f.filter((pl.col("risk_band") != next(iter(BANDS))) & (pl.col("reasons").list.len() == 0))["customer_id"]
        )
        for name, f in (("every", every.customers), ("budgeted", budgeted.customers))
    }
    assert untold["budgeted"] <= untold["every"], "whom the rule finds no reason for, the model explains"
