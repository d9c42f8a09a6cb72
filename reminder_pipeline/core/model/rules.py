"""The transparent rule score: used when no model is usable, and the bar every model must clear.

P(late) starts from the customer's own late share, shrunk towards a prior when there is little
history, then adds fixed amounts for what a collector would also worry about.
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

PRIOR_LATE_RATE = 0.3
PRIOR_WEIGHT = 3.0
OVERDUE_NOW = 0.15
DISPUTED_BEFORE = 0.05
BROKEN_PROMISE = 0.1
FLOOR, CEILING = 0.02, 0.98

RULE_COMPONENTS = {
    "hist_late_rate": "share of earlier invoices paid late, shrunk towards 30 % when there are few",
    "other_overdue_invoices": f"+{OVERDUE_NOW:.0%} when other invoices are overdue",
    "disputes_before": f"+{DISPUTED_BEFORE:.0%} after an earlier dispute",
    "broken_promises": f"+{BROKEN_PROMISE:.0%} per broken promise to pay",
}


def rule_terms(frame: pl.DataFrame, features: Collection[str] | None = None) -> pl.DataFrame:
    """Each rule's contribution to P(late), one column per feature in ``RULE_COMPONENTS``.

    With ``features``, a rule whose feature is not among them (``--exclude disputed``) adds nothing.
    """

    def component(name: str) -> pl.Expr:
        usable = name in frame.columns and (features is None or name in features)
        return pl.col(name).fill_null(0.0).fill_nan(0.0) if usable else pl.lit(0.0)

    resolved = component("hist_resolved")
    late_rate = component("hist_late_rate")
    shrunk = (late_rate * resolved + PRIOR_LATE_RATE * PRIOR_WEIGHT) / (resolved + PRIOR_WEIGHT)
    # ``with_columns`` then ``select``: literals alone would make a one-row frame.
    return frame.with_columns(
        shrunk.alias("hist_late_rate"),
        pl.when(component("other_overdue_invoices") > 0)
        .then(OVERDUE_NOW)
        .otherwise(0.0)
        .alias("other_overdue_invoices"),
        pl.when(component("disputes_before") > 0).then(DISPUTED_BEFORE).otherwise(0.0).alias("disputes_before"),
        (component("broken_promises") * BROKEN_PROMISE).alias("broken_promises"),
    ).select(list(RULE_COMPONENTS))


def rule_p_late(frame: pl.DataFrame, features: Collection[str] | None = None) -> pl.Series:
    terms = rule_terms(frame, features)
    return terms.select(pl.sum_horizontal(pl.all()).clip(FLOOR, CEILING).alias("p_late"))["p_late"]


def rule_days_late(frame: pl.DataFrame) -> pl.Series:
    """The customer's usual delay (never negative), or nothing known: zero."""
    return frame.select(pl.col("hist_mean_days_late").fill_null(0.0).fill_nan(0.0).clip(lower_bound=0.0).alias("d"))[
        "d"
    ]
