from __future__ import annotations

from datetime import date

import polars as pl

from reminder_pipeline.core.canonical import ROW_NUMBER
from reminder_pipeline.core.validation.reasons import Reason
from reminder_pipeline.core.validation.references import (
    KEPT_ROW,
    conflicts_with_existing,
    find_duplicates,
    fold_duplicates,
    require_known,
    share_outcomes,
)


def test_identical_repeats_fold_and_conflicting_ones_are_all_quarantined() -> None:
    frame = pl.DataFrame(
        {
            ROW_NUMBER: [1, 2, 3, 4, 5],
            "invoice_id": ["A", "A", "B", "B", "C"],
            "amount_minor": [100, 100, 5, 6, 7],
        }
    )
    result, folded = fold_duplicates(frame, "invoice_id")
    assert folded == 1
    assert result.accepted[ROW_NUMBER].to_list() == [1, 5]
    assert sorted(result.quarantined[ROW_NUMBER].to_list()) == [3, 4]
    assert set(result.quarantined["reason"]) == {Reason.CONFLICTING_DUPLICATE}


def test_unknown_references_are_quarantined() -> None:
    frame = pl.DataFrame({ROW_NUMBER: [1, 2], "customer_id": ["known", "stranger"]})
    result = require_known(frame, "customer_id", pl.Series(["known"]), Reason.UNKNOWN_CUSTOMER, "customer")
    assert result.accepted[ROW_NUMBER].to_list() == [1]
    assert result.quarantined["reason"].to_list() == [Reason.UNKNOWN_CUSTOMER]
    assert "stranger" in result.quarantined["detail"][0]


def test_a_conflict_with_the_ledger_names_the_changed_fields() -> None:
    incoming = pl.DataFrame(
        {
            ROW_NUMBER: [1, 2, 3],
            "invoice_id": ["A", "B", "NEW"],
            "amount_minor": [100, 999, 1],
            "due": [date(2026, 1, 1)] * 3,
        }
    )
    existing = pl.DataFrame({"invoice_id": ["A", "B"], "amount_minor": [100, 200], "due": [date(2026, 1, 1)] * 2})
    result = conflicts_with_existing(incoming, existing, "invoice_id", ["amount_minor", "due"])
    assert result.accepted["invoice_id"].to_list() == ["A", "NEW"]
    assert result.quarantined[ROW_NUMBER].to_list() == [2]
    assert "amount_minor" in result.quarantined["detail"][0]
    assert "due" not in result.quarantined["detail"][0].split("different")[1]


def test_duplicates_are_found_on_raw_rows_before_validation() -> None:
    frame = pl.DataFrame(
        {
            ROW_NUMBER: [1, 2, 3, 4, 5, 6, 7, 8],
            "invoice_id": ["A", "A", "B", " B", "C", "", None, ""],
            "amount": ["1", "1", "5", "oops", "7", "1", "1", "1"],
        }
    )
    found = find_duplicates(frame, "invoice_id")
    assert found.unique[ROW_NUMBER].to_list() == [1, 5, 6, 7, 8]
    assert sorted(found.conflicting[ROW_NUMBER].to_list()) == [3, 4]
    assert set(found.conflicting["reason"]) == {Reason.CONFLICTING_DUPLICATE}
    assert "B appears 2 times" in found.conflicting["detail"][0]
    assert found.folded.rows() == [(2, 1)]


def test_folded_copies_share_the_kept_rows_outcome() -> None:
    folded = pl.DataFrame({ROW_NUMBER: [2, 4], KEPT_ROW: [1, 3]})
    quarantined = pl.DataFrame({ROW_NUMBER: [3], "reason": ["unknown_customer"], "detail": ["customer 'X' is unknown"]})
    result = share_outcomes(folded, quarantined)
    assert result.accepted[ROW_NUMBER].to_list() == [2]
    assert result.quarantined.rows() == [(4, "unknown_customer", "identical to row 3: customer 'X' is unknown")]
