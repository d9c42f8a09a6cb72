"""``not_by_index``: on SQLite the column's indexes are out of the planner's reach (``+column``, the same
value), elsewhere the column is written as it is; two columns never share a cached statement."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from reminder_pipeline.core.outbox import OutboxStatus
from reminder_pipeline.ledger.listening_batch import move_messages
from reminder_pipeline.ledger.planner import not_by_index
from reminder_pipeline.ledger.schema import outbox
from reminder_pipeline.ledger.store import Ledger, upgrade_ledger
from reminder_pipeline_tests.ledger.plans import plans, plans_of


def test_the_column_is_written_through_unary_plus_on_sqlite_only() -> None:
    query = select(outbox.c.outbox_id).where(not_by_index(outbox.c.status).in_(["sent"]))
    assert "+outbox.status IN" in str(query.compile(dialect=sqlite.dialect()))
    on_postgresql = str(query.compile(dialect=postgresql.dialect()))
    assert "outbox.status IN" in on_postgresql
    assert "+" not in on_postgresql


def test_two_columns_never_share_a_cached_statement() -> None:
    by_status = select(outbox.c.outbox_id).where(not_by_index(outbox.c.status) == "sent")
    by_channel = select(outbox.c.outbox_id).where(not_by_index(outbox.c.channel) == "sent")
    assert by_status._generate_cache_key() != by_channel._generate_cache_key()


def test_moving_messages_by_id_takes_the_key_not_the_status_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    upgrade_ledger(url)
    with Ledger(url) as ledger, ledger.begin() as connection, plans(connection) as found:
        moved = move_messages(connection, [1, 2], [OutboxStatus.SENT], {"status": OutboxStatus.DELIVERED})
    assert not moved
    outbox_plans = plans_of(found, "outbox")
    assert outbox_plans, found
    for plan in outbox_plans:
        assert "INTEGER PRIMARY KEY" in plan or "(rowid=?)" in plan, plan
        assert "ix_outbox_status" not in plan, plan
