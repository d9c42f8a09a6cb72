"""What ingestion reads and writes in the ledger: the stored rows an incoming batch is checked and merged
against, the rows it changes, the disputes its flags open and close, and the record of each batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime

import polars as pl
from sqlalchemy import Connection, Table, func, insert, select

from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.changes import Merge
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.bulk import fetch, fetch_by_keys, schema_of, upsert

TABLES: dict[Entity, Table] = {
    Entity.CUSTOMERS: schema.customers,
    Entity.INVOICES: schema.invoices,
    Entity.PAYMENTS: schema.payments,
}
KEYS: dict[Entity, str] = {
    Entity.CUSTOMERS: "customer_id",
    Entity.INVOICES: "invoice_id",
    Entity.PAYMENTS: "payment_id",
}
DISPUTE_COLUMNS = ["dispute_id", "opened_on", "resolved_on"]


def text_limits(entity: Entity) -> dict[str, int]:
    """The length limit of each bounded text column of ``entity``'s table."""
    return schema.text_limits(TABLES[entity])


def stored(connection: Connection, entity: Entity, keys: pl.Series, columns: Sequence[str]) -> pl.DataFrame:
    """``columns`` of the ledger's rows of ``entity`` whose key is among ``keys``."""
    return fetch_by_keys(connection, TABLES[entity], KEYS[entity], keys, columns)


def write_rows(
    connection: Connection, entity: Entity, rows: pl.DataFrame, *, source: str, replace: Sequence[str]
) -> int:
    """Insert the rows of new keys; set the ``replace`` columns (and ``source``) of existing ones."""
    return upsert(
        connection,
        TABLES[entity],
        rows.with_columns(pl.lit(source).alias("source")),
        key=[KEYS[entity]],
        merge=dict.fromkeys(replace, Merge.REPLACE),
    )


def stored_disputes(connection: Connection, dispute_ids: pl.Series) -> pl.DataFrame:
    """``dispute_id, opened_on, resolved_on`` of these disputes, where the ledger has them."""
    return fetch_by_keys(connection, schema.disputes, "dispute_id", dispute_ids, DISPUTE_COLUMNS)


def write_disputes(connection: Connection, disputes: pl.DataFrame) -> int:
    """``dispute_id, invoice_id, opened_on, resolved_on, source``: new disputes, or their dates set anew."""
    return upsert(
        connection,
        schema.disputes,
        disputes,
        key=["dispute_id"],
        merge={"opened_on": Merge.REPLACE, "resolved_on": Merge.REPLACE},
    )


@dataclass(frozen=True)
class BatchRecord:
    """What one ingested batch of an entity did, kept in ``ingest_batches``."""

    entity: Entity
    source: str
    source_key: str
    business_date: date | None
    rows_in: int
    accepted: int
    quarantined: int
    inserted: int
    updated: int
    unchanged: int
    started_at: datetime
    finished_at: datetime


def record_batch(connection: Connection, batch: BatchRecord) -> None:
    connection.execute(insert(schema.ingest_batches).values(asdict(batch) | {"entity": batch.entity.value}))


def batch_conservation(connection: Connection, entity: str, source_keys: Sequence[str]) -> pl.DataFrame:
    """Per recorded batch: rows in, accepted, quarantined and the unresolved quarantine records behind it."""
    batches, quarantine = schema.ingest_batches, schema.quarantine
    latest = (
        select(func.max(batches.c.batch_id).label("batch_id"))
        .where(batches.c.entity == entity, batches.c.source_key.in_(list(source_keys)))
        .group_by(batches.c.source_key)
        .subquery()
    )
    records = (
        select(func.count())
        .where(
            quarantine.c.entity == entity,
            quarantine.c.source_key == batches.c.source_key,
            quarantine.c.resolved_at.is_(None),
        )
        .scalar_subquery()
    )
    counted = ["source", "rows_in", "accepted", "quarantined"]
    query = select(*[batches.c[c] for c in counted], records.label("records")).join(
        latest, latest.c.batch_id == batches.c.batch_id
    )
    return fetch(connection, query, {**schema_of(batches, counted), "records": pl.Int64()})
