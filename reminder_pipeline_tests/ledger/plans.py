"""The SQLite query plans of the statements a piece of code runs, for tests that pin a plan.

SQLite plans without statistics: offered a low-selectivity index, it may walk it (every message of the
day, every payment) once per call instead of the few rows a staged batch names. A plan test runs the
code under :func:`plans` and asserts on the plan of each statement, explained with its own parameters
while its staging tables still exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, event

EXPLAINED = ("SELECT", "UPDATE", "DELETE", "WITH")


@contextmanager
def plans(connection: Connection) -> Iterator[list[str]]:
    """The SQLite query plan of every SELECT, UPDATE and DELETE run on ``connection`` meanwhile, as one text each
    (its lines the plan's details, in order)."""
    found: list[str] = []

    def explain(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith(EXPLAINED) and not executemany:
            rows = cursor.connection.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
            found.append("\n".join(str(row[-1]) for row in rows))

    event.listen(connection, "before_cursor_execute", explain)
    try:
        yield found
    finally:
        event.remove(connection, "before_cursor_execute", explain)


def plans_of(found: list[str], table: str) -> list[str]:
    """Those of ``found`` that read ``table`` (a SCAN or SEARCH of it)."""
    return [p for p in found if f"SCAN {table}" in p or f"SEARCH {table} " in p or f"SEARCH {table}\n" in p]
