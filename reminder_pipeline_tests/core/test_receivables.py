from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from reminder_pipeline.config_files import load_policy
from reminder_pipeline.core.receivables import aging_labels, aging_summary, outstanding_by_currency, with_aging

AS_OF = date(2026, 3, 31)
EDGES = [7, 30, 60]


def _open(days_overdue: list[int], currency: str = "EUR") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [f"c{i % 2}" for i in range(len(days_overdue))],
            "due_date": [AS_OF - timedelta(days=d) for d in days_overdue],
            "currency": [currency] * len(days_overdue),
            "balance_minor": [100] * len(days_overdue),
        }
    )


def test_bucket_edges() -> None:
    aged = with_aging(_open([-5, 0, 1, 7, 8, 30, 31, 60, 61]), AS_OF, EDGES)
    assert aged["aging_bucket"].to_list() == [
        "not yet due",
        "not yet due",
        "1-7",
        "1-7",
        "8-30",
        "8-30",
        "31-60",
        "31-60",
        "60+",
    ]


def test_summary_has_every_bucket_per_currency() -> None:
    frame = pl.concat([_open([1, 2, 90]), _open([40], "USD")])
    summary = aging_summary(frame, AS_OF, EDGES)
    assert summary.height == 2 * len(aging_labels(EDGES))
    eur = summary.filter(pl.col("currency") == "EUR")
    assert eur["invoices"].to_list() == [0, 2, 0, 0, 1]
    assert eur["balance_minor"].to_list() == [0, 200, 0, 0, 100]


def test_outstanding_by_currency_counts_customers() -> None:
    out = outstanding_by_currency(pl.concat([_open([1, 2, 3]), _open([5], "USD")]))
    assert out.rows() == [("EUR", 3, 2, 300), ("USD", 1, 1, 100)]


def test_receivables_and_segments_age_by_the_policys_edges() -> None:
    """One rule: the ledger's aging report and the segments use the same edges, the policy's."""
    policy = load_policy()
    assert aging_labels(policy.segmentation.aging_edges) == policy.segmentation.aging_labels()
    other = with_aging(_open([3, 10, 20]), AS_OF, [5, 14])
    assert other["aging_bucket"].to_list() == ["1-5", "6-14", "14+"]
