"""Small builders for ingestion tests."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from sqlalchemy import select

from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.core.mapping import Mapping
from reminder_pipeline.ingestion.files import read_file
from reminder_pipeline.ingestion.report import IngestReport
from reminder_pipeline.ingestion.service import ingest_table
from reminder_pipeline.ledger import schema
from reminder_pipeline.ledger.store import Ledger

LEDGER_TABLES = ("customers", "invoices", "payments", "disputes", "quarantine")


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def ingest_file(
    ledger: Ledger, path: Path, entity: Entity = Entity.INVOICES, mapping: Mapping | None = None
) -> IngestReport:
    mapping = mapping or Mapping(entity=entity)
    return ingest_table(ledger, read_file(path, delimiter=mapping.delimiter), mapping=mapping)[-1]


def snapshot(ledger: Ledger) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the business tables, timestamps included, in a stable order."""
    with ledger.begin() as connection:
        return {
            name: sorted(
                (tuple(row) for row in connection.execute(select(schema.metadata.tables[name])).all()),
                key=repr,
            )
            for name in LEDGER_TABLES
        }


def customers_csv(path: Path, *ids: str) -> Path:
    lines = ["customer_id,name,email,phone,country,time_zone,locale"]
    lines += [f"{i},Customer {i},{i.lower()}@example.com,+4915112345678,DE,Europe/Berlin,de_DE" for i in ids]
    return write_csv(path, "\n".join(lines))


def frame_of(ledger: Ledger, table: str) -> pl.DataFrame:
    with ledger.begin() as connection:
        result = connection.execute(select(schema.metadata.tables[table]))
        return pl.DataFrame([dict(r._mapping) for r in result.all()], infer_schema_length=None)


def quarantined_rows(ledger: Ledger, entity: Entity) -> dict[int, str]:
    """Source row -> reason of every unresolved quarantine record of ``entity``."""
    table = schema.quarantine
    with ledger.begin() as connection:
        rows = connection.execute(
            select(table.c.source_row, table.c.reason).where(
                table.c.entity == entity.value, table.c.resolved_at.is_(None)
            )
        ).all()
    return dict(sorted((int(row), str(reason)) for row, reason in rows))
