"""Tasks for a person: opened once per key, ``open`` until a person closes them; only open ones are counted."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from reminder_pipeline.core.tasks import TaskStatus
from reminder_pipeline.ledger.listening import open_tasks
from reminder_pipeline.ledger.schema import tasks
from reminder_pipeline.ledger.store import Ledger
from reminder_pipeline.listening.tasks import Task, TaskKind, open_task

NOW = datetime(2026, 3, 10, 9, tzinfo=UTC)


def _task(key: str, kind: TaskKind) -> Task:
    return Task(dedupe_key=key, kind=kind, reason="look into it", source=f"reply:email:{key}")


def test_tasks_open_once_and_only_open_ones_are_counted(ledger: Ledger) -> None:
    dispute, call = TaskKind.DISPUTE, TaskKind.CALL_REQUEST
    given = [("T1", dispute), ("T2", dispute), ("T3", call), ("T1", dispute)]
    with ledger.begin() as connection:
        opened = [open_task(connection, _task(key, kind), NOW) for key, kind in given]
    assert opened == [True, True, True, False], "the same key opens nothing more"
    with ledger.begin() as connection:
        assert set(connection.execute(select(tasks.c.status)).scalars()) == {TaskStatus.OPEN}
        assert open_tasks(connection) == {"dispute": 2, "call_request": 1}
        done = update(tasks).where(tasks.c.dedupe_key == "T2").values(status=TaskStatus.DONE.value, closed_at=NOW)
        connection.execute(done)
        assert open_tasks(connection) == {"dispute": 1, "call_request": 1}
