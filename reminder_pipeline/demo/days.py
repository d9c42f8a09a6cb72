"""Days as int64 day numbers since 1970-01-01, so that whole columns of dates are drawn with numpy."""

from __future__ import annotations

from datetime import date

import numpy as np

EPOCH = date(1970, 1, 1)
NO_DAY = np.iinfo(np.int64).min
"""Marks a missing day in the int day arrays (becomes null)."""


def month_of(days: np.ndarray) -> np.ndarray:
    """Months since January 1970."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def first_day_of(months: np.ndarray) -> np.ndarray:
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
