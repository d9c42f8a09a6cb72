from __future__ import annotations

from datetime import date

import polars as pl

from reminder_pipeline.core.changes import CHANGE, KNOWN_ON, WRITE, Change, Merge, classify_changes, count_changes


def test_changes_follow_each_columns_merge_rule() -> None:
    existing = pl.DataFrame(
        {"id": ["same", "blank", "new_email", "opted"], "email": ["a", "b", "c", "d"], "opt_out": [None, None, None, 1]}
    )
    incoming = pl.DataFrame(
        {
            "id": ["same", "blank", "new_email", "opted", "fresh"],
            "email": ["a", None, "z", "d", "e"],
            "opt_out": [None, None, None, 2, None],
        }
    )
    merge = {"email": Merge.KEEP_EXISTING_IF_NEW_NULL, "opt_out": Merge.KEEP_FIRST}
    classified = classify_changes(incoming, existing, "id", merge)
    assert dict(zip(classified["id"], classified[CHANGE], strict=True)) == {
        "same": "none",
        "blank": "none",
        "new_email": "update",
        "opted": "none",
        "fresh": "insert",
    }
    assert count_changes(classified) == {Change.INSERT: 1, Change.UPDATE: 1, Change.NONE: 3}


def test_replace_treats_a_new_null_as_a_change() -> None:
    existing = pl.DataFrame({"id": ["x"], "v": [1]})
    incoming = pl.DataFrame({"id": ["x"], "v": [None]}, schema={"id": pl.String, "v": pl.Int64})
    assert classify_changes(incoming, existing, "id", {"v": Merge.REPLACE})[CHANGE].to_list() == ["update"]


def test_values_known_earlier_than_the_ledgers_only_fill_gaps() -> None:
    existing = pl.DataFrame(
        {
            "id": ["older", "same_day", "newer", "gap", "opted"],
            "email": ["a", "b", "c", None, "e"],
            "paid": [100, 100, 100, 100, 100],
            "opt_out": [None, None, None, None, 5],
            KNOWN_ON: [date(2026, 1, 2)] * 5,
        }
    )
    incoming = pl.DataFrame(
        {
            "id": ["older", "same_day", "newer", "gap", "opted"],
            "email": ["z", "y", "x", "w", "v"],
            "paid": [20, 30, 40, 50, 60],
            "opt_out": [1, None, None, None, 9],
            KNOWN_ON: [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3), date(2026, 1, 1), date(2026, 1, 1)],
        }
    )
    merge = {"email": Merge.KEEP_EXISTING_IF_NEW_NULL, "paid": Merge.REPLACE, "opt_out": Merge.KEEP_FIRST}
    classified = classify_changes(incoming, existing, "id", merge, known_on=True)
    rows = {row["id"]: row for row in classified.iter_rows(named=True)}
    assert (rows["older"]["email"], rows["older"]["paid"], rows["older"][KNOWN_ON]) == ("a", 100, date(2026, 1, 2))
    assert rows["older"]["opt_out"] == 1, "an opt-out is recorded whatever the date"
    assert (rows["same_day"]["email"], rows["same_day"]["paid"]) == ("y", 30)
    assert (rows["newer"]["email"], rows["newer"]["paid"], rows["newer"][KNOWN_ON]) == ("x", 40, date(2026, 1, 3))
    assert (rows["gap"]["email"], rows["gap"]["paid"]) == ("w", 100)
    assert rows["opted"]["opt_out"] == 5
    assert {k: (r[CHANGE], r[WRITE]) for k, r in rows.items()} == {
        "older": ("update", True),
        "same_day": ("update", True),
        "newer": ("update", True),
        "gap": ("update", True),
        "opted": ("none", False),
    }


def test_a_later_day_with_the_same_values_is_unchanged_but_advances_known_on() -> None:
    existing = pl.DataFrame({"id": ["x"], "v": [1], KNOWN_ON: [date(2026, 1, 1)]})
    incoming = pl.DataFrame({"id": ["x"], "v": [1], KNOWN_ON: [date(2026, 1, 5)]})
    classified = classify_changes(incoming, existing, "id", {"v": Merge.REPLACE}, known_on=True)
    assert classified.select(CHANGE, WRITE, KNOWN_ON).row(0) == ("none", True, date(2026, 1, 5))
