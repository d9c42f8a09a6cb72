from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from reminder_pipeline.core.features.build import features_as_of, scoring_features, training_examples
from reminder_pipeline.core.features.catalogue import FEATURES, select_features
from reminder_pipeline.core.features.state import DELIVERY_PRIOR_WEIGHT
from reminder_pipeline.core.history import History

D0 = date(2026, 1, 1)


def _history() -> History:
    """C1: three invoices, the first paid on time, the second 10 days late, the third still open."""
    invoices = pl.DataFrame(
        {
            "invoice_id": ["A", "B", "C"],
            "customer_id": ["C1"] * 3,
            "issue_date": [D0, D0 + timedelta(30), D0 + timedelta(65)],
            "due_date": [D0 + timedelta(30), D0 + timedelta(60), D0 + timedelta(95)],
            "amount_minor": [1000, 1000, 3000],
            "currency": ["EUR"] * 3,
        }
    )
    payments = pl.DataFrame(
        {"invoice_id": ["A", "B"], "amount_minor": [1000, 1000], "paid_date": [D0 + timedelta(25), D0 + timedelta(70)]}
    )
    return History.of(invoices=invoices, payments=payments)


def test_history_of_other_invoices_as_of_the_issue_date() -> None:
    examples = training_examples(_history(), D0 + timedelta(120)).sort("invoice_id")
    c = examples.row(2, named=True)
    assert (c["hist_resolved"], c["hist_late_rate"], c["hist_mean_days_late"]) == (2.0, 0.5, -5.0)
    assert c["amount_ratio"] == pytest.approx(3.0)
    assert (c["other_open_invoices"], c["other_overdue_invoices"]) == (1.0, 1.0)
    assert c["days_since_last_payment"] == 40.0
    assert (examples["late"].to_list(), examples["days_late"].to_list()) == ([False, True, True], [-5, 10, 25])


def test_an_invoice_due_today_is_not_yet_late() -> None:
    on_due_day = features_as_of(_history(), pl.DataFrame({"invoice_id": ["C"], "as_of": [D0 + timedelta(60)]}))
    assert (on_due_day["hist_resolved"][0], on_due_day["hist_late_rate"][0]) == (1.0, 0.0)


def test_an_invoice_never_sees_its_own_outcome() -> None:
    b = features_as_of(_history(), pl.DataFrame({"invoice_id": ["B"], "as_of": [D0 + timedelta(80)]})).row(
        0, named=True
    )
    assert b["hist_resolved"] == 1.0
    assert b["hist_late_rate"] == 0.0
    assert b["invoices_issued"] == 2.0


def test_open_invoices_on_a_day_carry_their_balance() -> None:
    open_now = scoring_features(_history(), D0 + timedelta(66))
    assert open_now.select("invoice_id", "balance_minor", "other_overdue_invoices").rows() == [
        ("B", 1000, 0.0),
        ("C", 3000, 1.0),
    ]


def test_excluding_a_source_column_removes_every_feature_built_from_it() -> None:
    names = {f.name for f in select_features(["disputed"])}
    assert "disputed_now" not in names
    assert "disputes_before" not in names
    assert len(names) == len(FEATURES) - 2
    assert "region" not in {f.name for f in select_features(["country"])}
    with pytest.raises(ValueError, match="cannot exclude"):
        select_features(["colour"])


def _delivery_history() -> History:
    """A: four paper invoices paid 10 days late, then four electronic ones paid 5 days early. B: four paper
    invoices paid 10 days late, paperless from day 200, one electronic invoice open. C never went paperless."""
    invoices, payments = [], []

    def invoice(invoice_id: str, customer: str, issued: int, days_late: int | None) -> None:
        issue = D0 + timedelta(issued)
        invoices.append((invoice_id, customer, issue, issue + timedelta(30), 1000, "EUR"))
        if days_late is not None:
            payments.append((invoice_id, 1000, issue + timedelta(30 + days_late)))

    for k in range(4):
        invoice(f"A-paper-{k}", "A", 20 * k, 10)
        invoice(f"A-electronic-{k}", "A", 100 + 20 * k, -5)
        invoice(f"B-paper-{k}", "B", 20 * k, 10)
    invoice("B-electronic", "B", 200, None)
    invoice("C-paper", "C", 200, None)
    columns = ["invoice_id", "customer_id", "issue_date", "due_date", "amount_minor", "currency"]
    return History.of(
        customers=pl.DataFrame(
            {"customer_id": ["A", "B", "C"], "paperless_since": [D0 + timedelta(100), D0 + timedelta(200), None]}
        ),
        invoices=pl.DataFrame(invoices, schema=columns, orient="row"),
        payments=pl.DataFrame(payments, schema=["invoice_id", "amount_minor", "paid_date"], orient="row"),
    )


def test_a_customer_who_just_went_paperless_is_expected_to_pay_like_others_did_after_the_switch() -> None:
    day = D0 + timedelta(200)
    queries = pl.DataFrame({"invoice_id": ["B-electronic", "C-paper"], "as_of": [day, day]})
    b, c = features_as_of(_delivery_history(), queries).sort("invoice_id").iter_rows(named=True)
    weight = 4 * 4 / 8  # A: four paper and four electronic invoices settled by the day
    shift = weight * (-5 - 10) / (weight + DELIVERY_PRIOR_WEIGHT)
    assert b["hist_mean_days_late"] == 10.0
    assert b["hist_mean_days_late_same_delivery"] is None, "B has no electronic invoice settled yet"
    assert b["hist_expected_days_late"] == pytest.approx(10.0 + shift)
    assert c["hist_expected_days_late"] is None, "C has nothing settled"
    assert (b["paperless"], c["paperless"]) == (1.0, 0.0)


def test_paperless_tells_how_the_invoice_went_out_not_whether_the_customer_switched_later() -> None:
    queries = pl.DataFrame({"invoice_id": ["B-paper-0", "C-paper"], "as_of": [D0, D0 + timedelta(200)]})
    features = features_as_of(_delivery_history(), queries)
    assert features["paperless"].to_list() == [0.0, 0.0], "B's later switch must not show on its paper invoice"


Rows = list[dict[str, object]]


def _one_term_late(customer: str, terms: int, amount_minor: int) -> tuple[Rows, Rows]:
    """Four invoices of the usual amount, three terms apart; each of the first three paid one term late."""
    issued = [D0 + timedelta(3 * terms * i) for i in range(4)]
    invoices = [
        {
            "invoice_id": f"{customer}{i}",
            "customer_id": customer,
            "issue_date": day,
            "due_date": day + timedelta(terms),
            "amount_minor": amount_minor,
            "currency": "EUR",
        }
        for i, day in enumerate(issued)
    ]
    payments = [
        {"invoice_id": f"{customer}{i}", "amount_minor": amount_minor, "paid_date": day + timedelta(2 * terms)}
        for i, day in enumerate(issued[:3])
    ]
    return invoices, payments


def test_the_features_in_units_of_the_terms_read_alike_on_weekly_and_monthly_terms() -> None:
    """Issue 14: features that carry across cadences. Paying one term late, on the usual amount, reads the
    same on 7-day and on 30-day terms, though the days late and the amounts differ."""
    weekly, weekly_paid = _one_term_late("W", 7, 20_000)
    monthly, monthly_paid = _one_term_late("M", 30, 500_000)
    history = History.of(invoices=pl.DataFrame(weekly + monthly), payments=pl.DataFrame(weekly_paid + monthly_paid))
    queries = pl.DataFrame({"invoice_id": ["W3", "M3"], "as_of": [D0 + timedelta(63), D0 + timedelta(270)]})
    w, m = features_as_of(history, queries).sort("invoice_id", descending=True).iter_rows(named=True)
    assert (w["hist_mean_days_late"], m["hist_mean_days_late"]) == (7.0, 30.0)
    for row in (w, m):
        assert row["hist_resolved"] == 3.0
        assert row["hist_lateness_to_terms"] == pytest.approx(1.0)
        assert row["hist_days_to_pay_to_terms"] == pytest.approx(2.0)
        assert row["hist_delay_trend_to_terms"] == pytest.approx(0.0)
        assert row["hist_late_trend"] == pytest.approx(0.0)
        assert row["amount_z"] == pytest.approx(0.0)
    assert w["amount_vs_portfolio"] < 0, "W's invoices are small beside M's, issued in the same 90 days"
    assert m["amount_vs_portfolio"] == pytest.approx(0.0), "in M3's last 90 days only M invoiced"
