"""Billing sources: where the day's customers, invoices and payments come from.

- :class:`DropFolder`: files a billing system drops per business date,
  ``<root>/<YYYY-MM-DD>/<entity>*.csv|parquet``.
- :class:`SqlQuerySource`: any SQLAlchemy URL plus one query per entity, bound to ``:business_date``.

Both hand back raw tables plus the mapping that turns them into canonical columns.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import create_engine, text

from reminder_pipeline.config_files import load_mapping, load_yaml_model
from reminder_pipeline.core.canonical import ROW_NUMBER, Entity
from reminder_pipeline.core.mapping import Mapping, json_value
from reminder_pipeline.core.yaml_config import FieldProblem
from reminder_pipeline.ingestion.files import RawTable, read_file, refuse_reserved_columns
from reminder_pipeline.ledger.engine import safe_url

SUFFIXES = (".csv", ".parquet")


@dataclass(frozen=True)
class SourceTable:
    table: RawTable
    mapping: Mapping


def _mapping_for(entity: Entity, mappings: dict[str, str]) -> Mapping:
    path = mappings.get(entity.value)
    mapping = load_mapping(path) if path else Mapping(entity=entity)
    if mapping.entity is not entity:
        raise ValueError(f"mapping {path} is for {mapping.entity.value}, configured for {entity.value}")
    return mapping


@dataclass(frozen=True)
class DropFolder:
    root: Path
    mappings: dict[str, str]

    def day_folder(self, business_date: date) -> Path:
        return self.root / business_date.isoformat()

    def files(self, entity: Entity, business_date: date) -> list[Path]:
        folder = self.day_folder(business_date)
        if not folder.is_dir():
            return []
        return sorted(
            p for p in folder.iterdir() if p.is_file() and p.name.startswith(entity.value) and p.suffix in SUFFIXES
        )

    def read(self, entity: Entity, business_date: date) -> list[SourceTable]:
        mapping = _mapping_for(entity, self.mappings)
        return [
            SourceTable(
                read_file(path, delimiter=mapping.delimiter, encoding=mapping.encoding),
                mapping,
            )
            for path in self.files(entity, business_date)
        ]

    def dates_with_files(self) -> list[date]:
        if not self.root.is_dir():
            return []
        found = []
        for folder in self.root.iterdir():
            try:
                day = date.fromisoformat(folder.name)
            except ValueError:
                continue
            if folder.is_dir() and any(p.suffix in SUFFIXES for p in folder.iterdir()):
                found.append(day)
        return sorted(found)


@dataclass(frozen=True)
class SqlQuerySource:
    url: str
    queries: dict[str, str]
    mappings: dict[str, str]

    def read(self, entity: Entity, business_date: date) -> list[SourceTable]:
        query = self.queries.get(entity.value)
        if not query:
            return []
        engine = create_engine(self.url)
        try:
            with engine.connect() as connection:
                frame = pl.read_database(
                    text(query),
                    connection,
                    execute_options={"parameters": {"business_date": business_date}},
                )
        finally:
            engine.dispose()
        source = f"sql:{safe_url(self.url)}:{entity.value}@{business_date.isoformat()}"
        refuse_reserved_columns(frame.columns, source)
        digest = hashlib.sha256()
        digest.update(f"{entity.value}|{business_date.isoformat()}|{','.join(frame.columns)}|".encode())
        if frame.width:
            rows = frame.select(pl.struct([json_value(c, t) for c, t in frame.schema.items()]).struct.json_encode())
            digest.update("\n".join(rows.to_series().fill_null("").to_list()).encode())
        frame = frame.with_row_index(ROW_NUMBER, offset=1).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64))
        return [
            SourceTable(
                RawTable(frame, source, digest.hexdigest()),
                _mapping_for(entity, self.mappings),
            )
        ]


class SourceConfig(BaseModel):
    """``source.yaml``: which billing source to read. Connection strings come from the environment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["drop_folder", "sql"] = "drop_folder"
    root: str | None = None
    url_env: str | None = None
    queries: dict[Entity, str] = Field(default_factory=dict)
    mappings: dict[Entity, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> SourceConfig:
        if self.kind == "sql" and (not self.url_env or not self.queries):
            raise FieldProblem(("kind",), "a sql source needs url_env (the variable holding its URL) and queries")
        return self


def load_source_config(path: Path | str) -> SourceConfig:
    config = load_yaml_model(path, SourceConfig)
    base = Path(path).parent
    mappings = {e: str((base / m).resolve()) for e, m in config.mappings.items()}
    return config.model_copy(update={"mappings": mappings})
