"""A day's risk scores, invoice predictions and segments in the ledger, on SQLite and PostgreSQL: one answer
per day however often it runs, other days untouched, read back typed by the tables."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest
from sqlalchemy import insert, select

from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.risk import (
    SCORE_SCHEMA,
    SEGMENT_SCHEMA,
    read_scores,
    read_segments,
    write_scores,
    write_segments,
)
from reminder_pipeline.ledger.store import Ledger

MONDAY, TUESDAY = date(2026, 3, 2), date(2026, 3, 3)


@pytest.fixture
def billed(ledger: Ledger) -> Ledger:
    with ledger.begin() as connection:
        connection.execute(insert(schema.customers), [{"customer_id": c, "source": "test"} for c in ("A", "B")])
        connection.execute(
            insert(schema.invoices),
            [
                {
                    "invoice_id": f"{c}-1",
                    "customer_id": c,
                    "issue_date": date(2026, 2, 1),
                    "due_date": date(2026, 2, 28),
                    "amount_minor": 10_000,
                    "currency": "EUR",
                    "source": "test",
                }
                for c in ("A", "B")
            ],
        )
    return ledger


def _customers(p_late: float, *ids: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": list(ids),
            "p_late": [p_late] * len(ids),
            "expected_days_late": [p_late * 10] * len(ids),
            "risk_band": ["high" if p_late > 0.5 else "low"] * len(ids),
            "reasons": [["overdue_share", "days_late_mean"]] * len(ids),
            "open_invoices": pl.Series([1] * len(ids), dtype=pl.UInt32),
            "predicted_payment_date": [date(2026, 3, 20)] * len(ids),
        }
    )


def _invoices(p_late: float, *customers: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "invoice_id": [f"{c}-1" for c in customers],
            "customer_id": list(customers),
            "p_late": [p_late] * len(customers),
            "expected_days_late": [p_late * 10] * len(customers),
            "predicted_payment_date": [None] * len(customers),
        },
        schema_overrides={"predicted_payment_date": pl.Date},
    )


def _segments(*ids: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": list(ids),
            "segment": [f"high|31-60|{c}|email" for c in ids],
            "risk_band": ["high"] * len(ids),
            "aging_bucket": ["31-60"] * len(ids),
            "value_tier": ["standard"] * len(ids),
            "channel": ["email"] * len(ids),
            "p_late": [0.7] * len(ids),
            "open_invoices": pl.Series([1] * len(ids), dtype=pl.UInt32),
            "open_balance_minor": [10_000] * len(ids),
            "currency": ["EUR"] * len(ids),
            "oldest_due_date": [date(2026, 2, 28)] * len(ids),
            "max_days_overdue": pl.Series([2] * len(ids), dtype=pl.Int32),
        }
    )


def test_a_day_scored_again_keeps_only_its_latest_scores(billed: Ledger) -> None:
    with billed.begin() as connection:
        write_scores(connection, MONDAY, _customers(0.2, "A", "B"), _invoices(0.2, "A", "B"), "rule")
        write_scores(connection, TUESDAY, _customers(0.3, "A"), _invoices(0.3, "A"), "rule")
        write_scores(connection, MONDAY, _customers(0.9, "B"), _invoices(0.9, "B"), "model-v2")
        monday, tuesday = read_scores(connection, MONDAY), read_scores(connection, TUESDAY)
        predictions = connection.execute(
            select(schema.invoice_predictions.c.business_date, schema.invoice_predictions.c.invoice_id).order_by(
                schema.invoice_predictions.c.business_date
            )
        ).all()
    assert monday.rows() == [("B", 0.9, 9.0, "high", '["overdue_share","days_late_mean"]', "model-v2")]
    assert tuesday.select("customer_id", "p_late", "scorer").rows() == [("A", 0.3, "rule")]
    assert [tuple(row) for row in predictions] == [(MONDAY, "B-1"), (TUESDAY, "A-1")]
    assert (
        monday.schema
        == SCORE_SCHEMA
        == {
            "customer_id": pl.String(),
            "p_late": pl.Float64(),
            "expected_days_late": pl.Float64(),
            "risk_band": pl.String(),
            "reasons": pl.String(),
            "scorer": pl.String(),
        }
    )
    assert json.loads(monday["reasons"][0]) == ["overdue_share", "days_late_mean"]


def test_a_day_without_scores_reads_as_an_empty_typed_frame(billed: Ledger) -> None:
    with billed.begin() as connection:
        scores, segments = read_scores(connection, MONDAY), read_segments(connection, MONDAY)
    assert scores.is_empty()
    assert scores.schema == SCORE_SCHEMA
    assert segments.is_empty()
    assert segments.schema == SEGMENT_SCHEMA


def test_a_day_segmented_again_keeps_only_its_latest_segments(billed: Ledger) -> None:
    with billed.begin() as connection:
        write_segments(connection, MONDAY, _segments("A", "B"), "policy-1")
        write_segments(connection, TUESDAY, _segments("A"), "policy-1")
        write_segments(connection, MONDAY, _segments("A"), "policy-2")
        monday, tuesday = read_segments(connection, MONDAY), read_segments(connection, TUESDAY)
        versions = connection.execute(
            select(schema.customer_segments.c.business_date, schema.customer_segments.c.policy_version).order_by(
                schema.customer_segments.c.business_date
            )
        ).all()
    assert monday.rows() == [("A", "high|31-60|A|email", "high", "EUR", 10_000, 0.7)]
    assert tuesday["customer_id"].to_list() == ["A"]
    assert [tuple(row) for row in versions] == [(MONDAY, "policy-2"), (TUESDAY, "policy-1")]
    assert monday.schema == SEGMENT_SCHEMA
    assert SEGMENT_SCHEMA["open_balance_minor"] == pl.Int64()
    assert SEGMENT_SCHEMA["p_late"] == pl.Float64()
