"""Reasons a collector understands: the features that pushed a score up most, said in words."""

from __future__ import annotations

import numpy as np
import polars as pl

from reminder_pipeline.core.features.catalogue import BY_NAME, Unit

TOP_REASONS = 3
CANDIDATES = 8
MIN_CONTRIBUTION = 0.05
"""In log-odds: smaller pushes are not worth a collector's attention."""


def _formatted(value: pl.Expr, unit: Unit) -> pl.Expr:
    if unit == "pct":
        return (value * 100).round(0).cast(pl.Int64).cast(pl.String) + pl.lit("%")
    if unit == "dec1":
        return value.round(1).cast(pl.String)
    return value.round(0).cast(pl.Int64).cast(pl.String)


def _phrase(names: list[str]) -> pl.Expr:
    """The reason phrase of the row's ``feature`` with its ``value`` filled in."""
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for name in names:
        feature = BY_NAME[name]
        text = (
            pl.lit(feature.reason)
            if feature.unit == "none"
            else pl.format(feature.reason, _formatted(pl.col("value"), feature.unit))
        )
        expr = pl.when(pl.col("feature") == name).then(text).otherwise(expr)
    return expr


def top_reasons(frame: pl.DataFrame, names: list[str], contributions: np.ndarray, k: int = TOP_REASONS) -> pl.Series:
    """Per row of ``frame``: up to ``k`` phrases for the features with the largest positive contributions."""
    rows = frame.height
    if rows == 0 or not names:
        return pl.Series("reasons", [[] for _ in range(rows)], dtype=pl.List(pl.String))
    candidates = min(CANDIDATES, len(names))
    order = np.argsort(-contributions, axis=1)[:, :candidates]
    groups = {name: BY_NAME[name].group for name in names}
    top = (
        pl.DataFrame(
            {
                "row": np.repeat(np.arange(rows), candidates),
                "rank": np.tile(np.arange(candidates), rows),
                "feature": np.asarray(names, dtype=object)[order.ravel()],
                "contribution": np.take_along_axis(contributions, order, axis=1).ravel(),
            },
            schema={"row": pl.Int64, "rank": pl.Int64, "feature": pl.String, "contribution": pl.Float64},
        )
        .filter(pl.col("contribution") >= MIN_CONTRIBUTION)
        .with_columns(pl.col("feature").replace_strict(groups, return_dtype=pl.String).alias("group"))
        .unique(["row", "group"], keep="first", maintain_order=True)
        .filter(pl.col("rank").rank("ordinal").over("row") <= k)
    )
    numeric = [n for n in names if BY_NAME[n].unit != "none"]
    values = (
        frame.select([pl.col(n).cast(pl.Float64) for n in numeric])
        .with_row_index("row")
        .with_columns(pl.col("row").cast(pl.Int64))
        .unpivot(index="row", variable_name="feature", value_name="value")
        if numeric
        else pl.DataFrame(schema={"row": pl.Int64, "feature": pl.String, "value": pl.Float64})
    )
    phrases = (
        top.join(values, on=["row", "feature"], how="left")
        .with_columns(_phrase(sorted({*names})).alias("phrase"))
        .filter(pl.col("phrase").is_not_null())
        .sort("row", "rank")
        .group_by("row", maintain_order=True)
        .agg(pl.col("phrase"))
    )
    aligned = pl.DataFrame({"row": np.arange(rows)}, schema={"row": pl.Int64}).join(phrases, on="row", how="left")
    return aligned["phrase"].fill_null([]).alias("reasons")
