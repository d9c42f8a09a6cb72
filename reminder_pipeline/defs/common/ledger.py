"""The ledger every domain reads and writes, as a Dagster resource."""

from __future__ import annotations

import dagster as dg
from pydantic import PrivateAttr

from reminder_pipeline import settings
from reminder_pipeline.defs.common.retries import is_transient
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
