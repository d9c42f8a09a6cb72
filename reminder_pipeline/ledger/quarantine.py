"""The quarantine in the ledger: every refused input row with its reason, resolved once a later ingest
of the same input accepts it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import Connection, func, select, update

from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.changes import Merge
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.bulk import fetch, fetch_by_keys, schema_of, upsert

SOURCE_LENGTH = schema.text_limits(schema.quarantine)["source"]
"""How long an input's description may be."""
OVERVIEW_COLUMNS = ["entity", "source", "source_row", "reason", "detail", "business_date"]


def write_quarantine(
    connection: Connection,
    entity: Entity,
    rows: pl.DataFrame,
    *,
    source: str,
    source_key: str,
    business_date: date | None,
) -> int:
    """``source_row, reason, detail, raw`` of one input's refused rows; a row refused again keeps one
    record, with the latest reason."""
    if rows.is_empty():
        return 0
    records = rows.select(
        pl.lit(entity.value).alias("entity"),
        pl.lit(source).alias("source"),
        pl.lit(source_key).alias("source_key"),
        "source_row",
        "reason",
        "detail",
        "raw",
        pl.lit(business_date, dtype=pl.Date).alias("business_date"),
    )
    return upsert(
        connection,
        schema.quarantine,
        records,
        key=["entity", "source_key", "source_row"],
        merge={"reason": Merge.REPLACE, "detail": Merge.REPLACE},
        touch=False,
    )


def resolve_quarantine(connection: Connection, entity: Entity, source_key: str, accepted_rows: pl.Series) -> int:
    """Rows quarantined by an earlier ingest of the same input that are now accepted are resolved."""
    q = schema.quarantine
    earlier = fetch_by_keys(
        connection, q, "source_key", pl.Series([source_key]), ["entity", "source_row", "resolved_at"]
    ).filter((pl.col("entity") == entity.value) & pl.col("resolved_at").is_null())
    now_fine = earlier.filter(pl.col("source_row").is_in(accepted_rows.implode()))["source_row"].to_list()
    if not now_fine:
        return 0
    result = connection.execute(
        update(q)
        .where(q.c.entity == entity.value, q.c.source_key == source_key, q.c.source_row.in_(now_fine))
        .values(resolved_at=datetime.now(UTC))
    )
    return int(result.rowcount)


def quarantine_overview(
    connection: Connection, *, reason: str | None, limit: int
) -> tuple[dict[str, int], pl.DataFrame]:
    """Unresolved quarantine counts per reason and the latest rows (no raw values: they may hold PII)."""
    q = schema.quarantine
    unresolved = [q.c.resolved_at.is_(None)] + ([q.c.reason == reason] if reason else [])
    counts = dict(
        connection.execute(
            select(q.c.reason, func.count()).where(*unresolved).group_by(q.c.reason).order_by(q.c.reason)
        )
        .tuples()
        .all()
    )
    latest = fetch(
        connection,
        select(*[q.c[c] for c in OVERVIEW_COLUMNS]).where(*unresolved).order_by(q.c.quarantine_id.desc()).limit(limit),
        schema_of(q, OVERVIEW_COLUMNS),
    )
    return {str(k): int(v) for k, v in counts.items()}, latest
