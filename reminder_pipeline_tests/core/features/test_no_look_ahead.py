"""Promise 7: features for day d use only what was known on day d."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from hypothesis import example, given, settings
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


PAID_ON_ISSUE_DISPUTED_NEXT_DAY = History.of(
    customers=pl.DataFrame({"customer_id": ["C0"], "region": [None], "paperless_since": [None]}),
    invoices=pl.DataFrame(
        {
            "invoice_id": ["I0"],
            "customer_id": ["C0"],
            "issue_date": [date(2026, 2, 8)],
            "due_date": [date(2026, 3, 10)],
            "amount_minor": [1000],
            "currency": ["EUR"],
        }
    ),
    payments=pl.DataFrame(
        {"invoice_id": ["I0"], "amount_minor": [1000], "paid_date": [date(2026, 2, 8)], "method": [None]}
    ),
    disputes=pl.DataFrame({"invoice_id": ["I0"], "opened_on": [date(2026, 2, 9)], "resolved_on": [None]}),
)
"""I0 is issued and fully paid on 2026-02-08 and disputed from the 9th. On the 8th its dispute is not
known yet; once counted as known and taken back out, disputes_before came out as -1."""


@settings(max_examples=150, deadline=None)
@given(history=histories(), offset=st.integers(0, 200))
@example(history=PAID_ON_ISSUE_DISPUTED_NEXT_DAY, offset=(date(2026, 2, 8) - START).days)
def test_features_of_day_d_ignore_everything_after_d(history: History, offset: int) -> None:
    day = START + timedelta(days=offset)
    known = history.known_on(day)
    queries = known.invoices.select("invoice_id", pl.lit(day).alias("as_of"))
    assert_frame_equal(_stable(features_as_of(history, queries)), _stable(features_as_of(known, queries)))
    assert_frame_equal(_stable(scoring_features(history, day)), _stable(scoring_features(known, day)))


PREPAID_BEFORE_ISSUE = History.of(
    customers=pl.DataFrame({"customer_id": ["C0"], "region": [None], "paperless_since": [None]}),
    invoices=pl.DataFrame(
        {
            "invoice_id": ["I0", "I1"],
            "customer_id": ["C0", "C0"],
            "issue_date": [date(2026, 1, 1), date(2026, 1, 2)],
            "due_date": [date(2026, 1, 1), date(2026, 1, 2)],
            "amount_minor": [100, 100],
            "currency": ["EUR", "EUR"],
        }
    ),
    payments=pl.DataFrame(
        {"invoice_id": ["I1"], "amount_minor": [1], "paid_date": [date(2025, 12, 31)], "method": [None]}
    ),
)
"""I1 was paid on 31 December, before it was issued on 2 January: on 1 January nothing tied that money to
the customer's invoices yet, so I0's days since the last payment must not count it."""


@settings(max_examples=100, deadline=None)
@given(history=histories())
@example(history=PREPAID_BEFORE_ISSUE)
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
