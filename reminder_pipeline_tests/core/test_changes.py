from __future__ import annotations

import polars as pl

from reminder_pipeline.core.changes import CHANGE, Change, Merge, classify_changes, count_changes


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
