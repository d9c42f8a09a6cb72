"""Where the day's billing data comes from: a drop folder or a billing database."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import dagster as dg
from pydantic import Field

from reminder_pipeline import settings
from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.ingestion.sources import (
    DropFolder,
    SourceTable,
    SqlQuerySource,
    load_source_config,
)


class BillingSourceResource(dg.ConfigurableResource):
    """Where the day's billing data comes from; concrete sources below."""

    mappings: dict[str, str] = Field(default_factory=dict)

    def read(self, entity: Entity, business_date: date) -> list[SourceTable]:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


class DropFolderSource(BillingSourceResource):
    """CSV or Parquet files dropped per business date: ``<root>/<YYYY-MM-DD>/<entity>*.csv``."""

    root: str | None = None

    def folder(self) -> DropFolder:
        return DropFolder(Path(self.root) if self.root else settings.drop_dir(), self.mappings)

    def read(self, entity: Entity, business_date: date) -> list[SourceTable]:
        return self.folder().read(entity, business_date)

    def describe(self) -> str:
        return f"drop folder {self.folder().root}"


class SqlSource(BillingSourceResource):
    """A billing database: a SQLAlchemy URL and one query per entity using ``:business_date``."""

    url: str
    queries: dict[str, str]

    def read(self, entity: Entity, business_date: date) -> list[SourceTable]:
        return SqlQuerySource(self.url, self.queries, self.mappings).read(entity, business_date)

    def describe(self) -> str:
        return f"SQL source with queries for {sorted(self.queries)}"


def billing_source_from_environment() -> BillingSourceResource:
    """``$REMINDERS_SOURCE_CONFIG`` (a source.yaml) when set, else the drop folder under the data directory."""
    path = os.environ.get(settings.SOURCE_CONFIG_ENV)
    if not path:
        return DropFolderSource()
    config = load_source_config(path)
    mappings = {e.value: m for e, m in config.mappings.items()}
    if config.kind == "sql":
        assert config.url_env is not None
        return SqlSource(
            url=dg.EnvVar(config.url_env),
            queries={e.value: q for e, q in config.queries.items()},
            mappings=mappings,
        )
    return DropFolderSource(root=config.root, mappings=mappings)
