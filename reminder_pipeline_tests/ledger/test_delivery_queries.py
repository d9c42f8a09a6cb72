"""Delivery's ledger reads take the customer's index on SQLite, not a walk over the day's messages.

SQLite plans without statistics: offered the (send_on, status) index, it walked every message handed over
that day once per staged customer, so each last look grew with the messages already sent (200 ms a look
at 20,000 messages). The plan is checked where the query is run, with its own parameters.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from reminder_pipeline.ledger.delivery import contacted_on
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger
from reminder_pipeline_tests.ledger.plans import plans, plans_of


def test_who_was_contacted_on_a_day_is_read_by_customer_not_by_the_days_messages(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    upgrade_ledger(url)
    with Ledger(url) as ledger, ledger.begin() as connection, plans(connection) as found:
        contacted = contacted_on(connection, pl.Series(["C1", "C2"]), pl.Series([date(2026, 3, 10)]))
    assert contacted.is_empty()
    outbox_plans = plans_of(found, "outbox")
    assert outbox_plans, found
    for plan in outbox_plans:
        assert "ix_outbox_customer_episode (customer_id=?)" in plan, plan
        assert "ix_outbox_send_on_status" not in plan, plan
