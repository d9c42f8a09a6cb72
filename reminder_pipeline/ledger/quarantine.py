from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, func, select

from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.bulk import fetch


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
        select(
            q.c.entity,
            q.c.source,
            q.c.source_row,
            q.c.reason,
            q.c.detail,
            q.c.business_date,
        )
        .where(*unresolved)
        .order_by(q.c.quarantine_id.desc())
        .limit(limit),
        {
            "entity": pl.String(),
            "source": pl.String(),
            "source_row": pl.Int64(),
            "reason": pl.String(),
            "detail": pl.String(),
            "business_date": pl.Date(),
        },
    )
    return {str(k): int(v) for k, v in counts.items()}, latest
