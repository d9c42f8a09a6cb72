"""Delivery's ledger reads take the customer's index on SQLite, not a walk over the day's messages.

SQLite plans without statistics: offered the (send_on, status) index, it walked every message handed over
that day once per staged customer, so each last look grew with the messages already sent (200 ms a look
at 20,000 messages). The plan is checked where the query is run, with its own parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, event

from reminder_pipeline.ledger.delivery import contacted_on
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger


@contextmanager
def _plans(connection: Connection) -> Iterator[list[str]]:
    """The SQLite query plan of every SELECT run on ``connection`` meanwhile, as one text each."""
    plans: list[str] = []

    def explain(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and not executemany:
            rows = cursor.connection.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
            plans.append("\n".join(str(row[-1]) for row in rows))

    event.listen(connection, "before_cursor_execute", explain)
    try:
        yield plans
    finally:
        event.remove(connection, "before_cursor_execute", explain)


def test_who_was_contacted_on_a_day_is_read_by_customer_not_by_the_days_messages(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    upgrade_ledger(url)
    with Ledger(url) as ledger, ledger.begin() as connection, _plans(connection) as plans:
        found = contacted_on(connection, pl.Series(["C1", "C2"]), pl.Series([date(2026, 3, 10)]))
    assert found.is_empty()
    outbox_plans = [p for p in plans if "outbox " in p]
    assert outbox_plans, plans
    for plan in outbox_plans:
        assert "ix_outbox_customer_episode (customer_id=?)" in plan, plan
        assert "ix_outbox_send_on_status" not in plan, plan
