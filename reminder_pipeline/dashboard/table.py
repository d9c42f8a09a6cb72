"""The customer table's filters, sort and pages, read from and written back to a URL's query string."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import urlencode

import polars as pl

from reminder_pipeline.dashboard.accounts import Queue

PAGE_SIZE = 50
SORTABLE = {
    "expected_loss": "expected_loss_minor",
    "owed": "owed_minor",
    "days_past_due": "days_past_due",
    "oldest_due": "oldest_due",
    "p_late": "p_late",
    "next_date": "next_date",
    "last_contact": "last_contact_at",
    "customer": "customer_id",
}
DEFAULT_SORT = "expected_loss"


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Filters:
    band: str | None = None
    min_owed: float | None = None
    """In major units of the row's currency."""
    max_owed: float | None = None
    due_from: date | None = None
    due_to: date | None = None
    segment: str | None = None
    channel: str | None = None
    status: str | None = None
    query: str | None = None
    sort: str = DEFAULT_SORT
    descending: bool = True
    page: int = 1

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> Filters:
        def text(name: str) -> str | None:
            value = (params.get(name) or "").strip()
            return value[:200] or None

        sort = text("sort") or DEFAULT_SORT
        try:
            page = max(1, int(params.get("page") or 1))
        except ValueError:
            page = 1
        status = text("status")
        return cls(
            band=text("band"),
            min_owed=_number(params.get("min_owed")),
            max_owed=_number(params.get("max_owed")),
            due_from=_date(params.get("due_from")),
            due_to=_date(params.get("due_to")),
            segment=text("segment"),
            channel=text("channel"),
            status=status if status in {q.value for q in Queue} else None,
            query=text("q"),
            sort=sort if sort in SORTABLE else DEFAULT_SORT,
            descending=params.get("dir", "desc") != "asc",
            page=page,
        )

    def to_query(self, **changes: object) -> str:
        """The query string of these filters (with ``changes``), default values left out."""
        chosen = replace(self, **changes)  # type: ignore[arg-type]
        pairs = {
            "band": chosen.band,
            "min_owed": chosen.min_owed,
            "max_owed": chosen.max_owed,
            "due_from": chosen.due_from,
            "due_to": chosen.due_to,
            "segment": chosen.segment,
            "channel": chosen.channel,
            "status": chosen.status,
            "q": chosen.query,
            "sort": None if chosen.sort == DEFAULT_SORT else chosen.sort,
            "dir": None if chosen.descending else "asc",
            "page": None if chosen.page == 1 else chosen.page,
        }
        return urlencode({k: _plain(v) for k, v in pairs.items() if v is not None})


def _plain(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _major(minor: pl.Expr, digits: pl.Expr) -> pl.Expr:
    return minor.cast(pl.Float64) / pl.lit(10.0).pow(digits)


def filtered(frame: pl.DataFrame, filters: Filters, digits: Mapping[str, int]) -> pl.DataFrame:
    """The rows the filters keep, sorted (ties by customer id)."""
    conditions: list[pl.Expr] = []
    f = filters
    if f.band:
        conditions.append(pl.col("risk_band") == f.band)
    if f.min_owed is not None or f.max_owed is not None:
        places = pl.col("currency").replace_strict(dict(digits), default=2, return_dtype=pl.Int64)
        owed = _major(pl.col("owed_minor"), places)
        if f.min_owed is not None:
            conditions.append(owed >= f.min_owed)
        if f.max_owed is not None:
            conditions.append(owed <= f.max_owed)
    if f.due_from:
        conditions.append(pl.col("oldest_due") >= f.due_from)
    if f.due_to:
        conditions.append(pl.col("oldest_due") <= f.due_to)
    if f.segment:
        conditions.append(pl.col("segment") == f.segment)
    if f.channel:
        conditions.append(pl.col("channel") == f.channel)
    if f.status:
        conditions.append(pl.col("queue") == f.status)
    if f.query:
        needle = f.query.lower()
        conditions.append(
            pl.col("customer_id").str.to_lowercase().str.contains(needle, literal=True)
            | pl.col("name").fill_null("").str.to_lowercase().str.contains(needle, literal=True)
        )
    kept = frame.filter(pl.all_horizontal(conditions)) if conditions else frame
    column = SORTABLE[f.sort]
    return kept.sort([column, "customer_id"], descending=[f.descending, False], nulls_last=True)


@dataclass(frozen=True)
class Page:
    rows: pl.DataFrame
    total: int
    page: int
    pages: int


def page_of(frame: pl.DataFrame, filters: Filters, digits: Mapping[str, int], size: int = PAGE_SIZE) -> Page:
    kept = filtered(frame, filters, digits)
    pages = max(1, -(-kept.height // size))
    page = min(filters.page, pages)
    return Page(kept.slice((page - 1) * size, size), kept.height, page, pages)


def worklist(frame: pl.DataFrame, queue: Queue, size: int = PAGE_SIZE) -> tuple[pl.DataFrame, int]:
    """A queue's customers by expected loss (amount × P(late)), largest first, and how many there are."""
    rows = frame.filter(pl.col("queue") == queue.value)
    top = rows.top_k(size, by=["expected_loss_minor"]).sort(
        ["expected_loss_minor", "customer_id"], descending=[True, False]
    )
    return top, rows.height
