"""Steering SQLite's query planner away from an index it would misuse.

SQLite plans without statistics. Offered a low-selectivity index on a filter column (an outbox row's
status, its send day) beside a selective key the query also filters on (its id, its customer), it may
walk the low-selectivity one — every row of that status or day — once per probe. Writing the filter
column as ``+column`` (SQLite's unary plus: the same value, but no index of it is usable) leaves the
planner only the key. PostgreSQL plans with statistics, and a function around the column costs it its
index where that is the right one, so everywhere else the column is written as it is.
"""

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType


class NotByIndex(ColumnElement[Any]):
    """``column`` compared as itself, but through none of its indexes on SQLite."""

    inherit_cache = True
    _traverse_internals: _TraverseInternalsType = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012
    """The column is part of the statement's cache key: two columns never share a compiled statement."""

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type

    @property
    def _from_objects(self) -> list[Any]:
        return list(self.column._from_objects)


def not_by_index(column: ColumnElement[Any]) -> NotByIndex:
    return NotByIndex(column)


@compiles(NotByIndex)
def _as_it_is(element: NotByIndex, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.column, **kw))


@compiles(NotByIndex, "sqlite")
def _unary_plus(element: NotByIndex, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + str(compiler.process(element.column, **kw))
