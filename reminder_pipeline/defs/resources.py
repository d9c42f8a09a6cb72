"""Resources shared by every domain: the ledger and the billing source."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import dagster as dg
from pydantic import Field, PrivateAttr

from reminder_pipeline import settings
from reminder_pipeline.core.canonical import Entity
from reminder_pipeline.defs.common.retries import is_transient
from reminder_pipeline.ingestion.sources import (
    DropFolder,
    SourceTable,
    SqlQuerySource,
    load_source_config,
)
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger


class LedgerResource(dg.ConfigurableResource):
    """The ledger database. Leave ``url`` empty to use ``$REMINDERS_DB_URL`` or the embedded SQLite file,
    so that no password ever appears in run configuration."""

    url: str | None = None
    _ledger: Ledger | None = PrivateAttr(default=None)
    _upgraded: bool = PrivateAttr(default=False)

    def resolved_url(self) -> str:
        return self.url or settings.ledger_url()

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Create or migrate the ledger before the assets use it, so that they work on a fresh database.

        A database that does not answer yet is left to :meth:`open`, inside the step, whose retries heal it
        (a failed resource setup would fail the run without a retry).
        """
        try:
            self._upgrade()
        except Exception as error:
            if not is_transient(error):
                raise

    def _upgrade(self) -> None:
        upgrade_ledger(self.resolved_url(), create_folder=True)
        self._upgraded = True

    def open(self) -> Ledger:
        if self._ledger is None:
            if not self._upgraded:
                self._upgrade()
            self._ledger = Ledger(self.resolved_url())
        return self._ledger

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._ledger is not None:
            self._ledger.dispose()
            self._ledger = None


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
