"""Promise 7: features for day d use only what was known on day d."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from reminder_pipeline.core.canonical import HISTORY_PAYMENT_METHOD
from reminder_pipeline.core.features.build import features_as_of, scoring_features, training_examples
from reminder_pipeline.core.history import History

START = date(2026, 1, 1)


@st.composite
def histories(draw: st.DrawFn) -> History:
    n_customers = draw(st.integers(1, 4))
    customers = [
        {
            "customer_id": f"C{c}",
            "region": draw(st.sampled_from(["N", "S", None])),
            "paperless_since": draw(st.one_of(st.none(), st.integers(0, 150).map(lambda d: START + timedelta(d)))),
        }
        for c in range(n_customers)
    ]
    invoices, payments, disputes, promises = [], [], [], []
    for i in range(draw(st.integers(1, 14))):
        issue = START + timedelta(draw(st.integers(0, 120)))
        due = issue + timedelta(draw(st.sampled_from([0, 14, 30])))
        amount = draw(st.integers(100, 100_000))
        invoice = {
            "invoice_id": f"I{i}",
            "customer_id": f"C{draw(st.integers(0, n_customers - 1))}",
            "issue_date": issue,
            "due_date": due,
            "amount_minor": amount,
            "currency": "EUR",
        }
        invoices.append(invoice)
        for _ in range(draw(st.integers(0, 2))):
            payments.append(
                {
                    "invoice_id": invoice["invoice_id"],
                    "amount_minor": draw(st.integers(1, amount)),
                    "paid_date": issue + timedelta(draw(st.integers(-2, 90))),
                    "method": draw(st.sampled_from([None, HISTORY_PAYMENT_METHOD])),
                }
            )
        if draw(st.booleans()):
            opened = draw(st.one_of(st.none(), st.integers(0, 60)))
            disputes.append(
                {
                    "invoice_id": invoice["invoice_id"],
                    "opened_on": None if opened is None else issue + timedelta(opened),
                    "resolved_on": None,
                }
            )
        if draw(st.booleans()):
            made = issue + timedelta(draw(st.integers(0, 40)))
            promises.append(
                {
                    "customer_id": invoice["customer_id"],
                    "promised_date": made + timedelta(draw(st.integers(1, 20))),
                    "made_on": made,
                    "status": draw(st.sampled_from(["pending", "kept", "broken"])),
                }
            )
    return History.of(
        customers=pl.DataFrame(customers),
        invoices=pl.DataFrame(invoices),
        payments=pl.DataFrame(payments) if payments else None,
        disputes=pl.DataFrame(disputes) if disputes else None,
        promises=pl.DataFrame(promises) if promises else None,
    )


def _stable(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("invoice_id", "as_of").fill_nan(None)


@settings(max_examples=150, deadline=None)
@given(history=histories(), offset=st.integers(0, 200))
def test_features_of_day_d_ignore_everything_after_d(history: History, offset: int) -> None:
    day = START + timedelta(days=offset)
    known = history.known_on(day)
    queries = known.invoices.select("invoice_id", pl.lit(day).alias("as_of"))
    assert_frame_equal(_stable(features_as_of(history, queries)), _stable(features_as_of(known, queries)))
    assert_frame_equal(_stable(scoring_features(history, day)), _stable(scoring_features(known, day)))


@settings(max_examples=100, deadline=None)
@given(history=histories())
def test_training_features_are_as_of_each_issue_date(history: History) -> None:
    """A training row's features equal those computed from only what was known on its issue date."""
    end = START + timedelta(days=300)
    examples = training_examples(history, end)
    for row in examples.select("invoice_id", "issue_date").iter_rows(named=True):
        known = history.known_on(row["issue_date"])
        query = pl.DataFrame({"invoice_id": [row["invoice_id"]], "as_of": [row["issue_date"]]})
        expected = _stable(features_as_of(known, query))
        actual = _stable(examples.filter(pl.col("invoice_id") == row["invoice_id"]).select(expected.columns))
        assert_frame_equal(actual, expected)
