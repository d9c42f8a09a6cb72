"""Fast, parameterised bulk movement between polars frames and ledger tables.

Rows travel through a temporary staging table: PostgreSQL's COPY or SQLite's executemany fill
it, then one set-based statement merges it. A staging table is created inside the caller's
transaction: when a statement fails it is not dropped here (on PostgreSQL that would fail again
and hide the real error); the transaction's rollback removes it. Identifiers in the SQL text are the schema's own;
values only ever travel as parameters or COPY data.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import uuid4

import polars as pl
from sqlalchemy import Column, Connection, MetaData, Table, bindparam, func, select, text
from sqlalchemy.sql import sqltypes
from sqlalchemy.sql.type_api import TypeEngine

from reminder_pipeline.core.changes import Merge


def polars_type(sql_type: TypeEngine) -> pl.DataType:
    if isinstance(sql_type, (sqltypes.String, sqltypes.Text)):
        return pl.String()
    if isinstance(sql_type, sqltypes.Integer):
        return pl.Int64()
    if isinstance(sql_type, sqltypes.Float):
        return pl.Float64()
    if isinstance(sql_type, sqltypes.DateTime):
        return pl.Datetime("us", "UTC")
    if isinstance(sql_type, sqltypes.Date):
        return pl.Date()
    if isinstance(sql_type, sqltypes.Boolean):
        return pl.Boolean()
    raise TypeError(f"no polars type for {sql_type!r}")


def schema_of(table: Table, columns: Sequence[str]) -> dict[str, pl.DataType]:
    """The polars types of ``columns`` of ``table``: a frame read from it is typed by the table itself."""
    return {c: polars_type(table.c[c].type) for c in columns}


STAGE_CHUNK_ROWS = 100_000
"""Rows converted for the driver at a time: bounds memory for million-row batches."""


def _sqlite_rows(frame: pl.DataFrame) -> list[tuple[object, ...]]:
    converted = frame.with_columns(
        [pl.col(c).cast(pl.String) for c, t in frame.schema.items() if t == pl.Date]
        # SQLAlchemy's own SQLite text for timestamps (microseconds, six digits): stored values then compare
        # with its parameters as text compares, in time order
        + [
            pl.col(c).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
            if t.time_zone
            else pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
            for c, t in frame.schema.items()
            if isinstance(t, pl.Datetime)
        ]
        + [pl.col(c).cast(pl.Int8) for c, t in frame.schema.items() if t == pl.Boolean]
    )
    return converted.rows()


class StagingError(RuntimeError):
    """The staging table did not receive every row of the frame: nothing may be merged from it."""


def stage(connection: Connection, frame: pl.DataFrame, like: Table) -> Table:
    """A temporary table with ``frame``'s columns (typed as in ``like``), filled with its rows.

    Raises :class:`StagingError` when the table does not hold exactly ``frame.height`` rows.
    """
    staged = Table(
        f"stage_{like.name}_{uuid4().hex[:10]}",
        MetaData(),
        *[Column(c, like.c[c].type) for c in frame.columns],
        prefixes=["TEMPORARY"],
    )
    staged.create(connection)
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    for offset in range(0, frame.height, STAGE_CHUNK_ROWS):
        _fill(connection, staged.name, columns, frame.slice(offset, STAGE_CHUNK_ROWS))
    count = connection.execute(select(func.count()).select_from(staged)).scalar_one()
    if count != frame.height:
        staged.drop(connection)
        raise StagingError(f"staging {like.name}: {count} rows arrived of {frame.height}")
    return staged


def _fill(connection: Connection, table: str, columns: str, chunk: pl.DataFrame) -> None:
    if connection.dialect.name == "postgresql":
        _copy_into(connection, table, columns, chunk)
    else:
        placeholders = ", ".join("?" for _ in chunk.columns)
        connection.exec_driver_sql(f'INSERT INTO "{table}" ({columns}) VALUES ({placeholders})', _sqlite_rows(chunk))


def _copy_into(connection: Connection, table: str, columns: str, frame: pl.DataFrame) -> None:
    """COPY in CSV format. Every text value is quoted: a lone ``\\.`` would otherwise end the data.

    Nulls stay unquoted empty fields (NULL to COPY) and an empty string is a quoted ``""``, so the
    two remain distinct; numbers need no quotes.
    """
    buffer = io.StringIO()
    frame.write_csv(
        buffer,
        include_header=False,
        null_value="",
        quote_style="non_numeric",
        datetime_format="%Y-%m-%dT%H:%M:%S%.f%:z",
    )
    buffer.seek(0)
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor: Any = raw.cursor()
    try:
        cursor.copy_expert(f'COPY "{table}" ({columns}) FROM STDIN WITH (FORMAT csv)', buffer)
    finally:
        cursor.close()


def _merge_expression(table: str, column: str, how: Merge) -> str:
    if how is Merge.REPLACE:
        return f'excluded."{column}"'
    if how is Merge.KEEP_EXISTING_IF_NEW_NULL:
        return f'COALESCE(excluded."{column}", "{table}"."{column}")'
    return f'COALESCE("{table}"."{column}", excluded."{column}")'


def upsert(
    connection: Connection,
    table: Table,
    frame: pl.DataFrame,
    *,
    key: Sequence[str],
    merge: Mapping[str, Merge],
    touch: bool = True,
) -> int:
    """Insert new keys and merge existing ones column by column; returns rows written."""
    if frame.is_empty():
        return 0
    staged = stage(connection, frame, table)
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    assignments = [f'"{c}" = {_merge_expression(table.name, c, how)}' for c, how in merge.items()]
    if touch and "updated_at" in table.c:
        assignments.append('"updated_at" = CURRENT_TIMESTAMP')
    conflict = ", ".join(f'"{k}"' for k in key)
    action = f"DO UPDATE SET {', '.join(assignments)}" if assignments else "DO NOTHING"
    result = connection.exec_driver_sql(
        f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM "{staged.name}" WHERE true '
        f"ON CONFLICT ({conflict}) {action}"
    )
    staged.drop(connection)
    return int(result.rowcount)


def update_from(
    connection: Connection,
    table: Table,
    frame: pl.DataFrame,
    *,
    key: str,
    only_if: tuple[str, Sequence[str]] | None = None,
    matching: Mapping[str, str] | None = None,
    unchanged: Sequence[str] = (),
    touch: bool = True,
) -> int:
    """Set the frame's other columns on the rows whose ``key`` it names (UPDATE ... FROM a staged table).

    ``only_if=(column, values)`` leaves rows alone whose ``column`` holds none of ``values`` (bound
    as parameters): a row another process moved on in the meantime keeps its state. ``matching``
    (column: value, bound too) leaves alone rows whose column holds another value. ``unchanged`` names
    frame columns that are conditions, not values to set: a row whose column no longer holds the frame's
    value (another process moved it on since it was read) is left alone.
    """
    if frame.is_empty():
        return 0
    staged = stage(connection, frame, table)
    assignments = [f'"{c}" = "{staged.name}"."{c}"' for c in frame.columns if c != key and c not in unchanged]
    if touch and "updated_at" in table.c:
        assignments.append('"updated_at" = CURRENT_TIMESTAMP')
    sql = (
        f'UPDATE "{table.name}" SET {", ".join(assignments)} FROM "{staged.name}" '
        f'WHERE "{table.name}"."{key}" = "{staged.name}"."{key}"'
    )
    for column in unchanged:
        sql += f' AND "{table.name}"."{column}" IS NOT DISTINCT FROM "{staged.name}"."{column}"'
    parameters: dict[str, list[str] | str] = {}
    for index, (column, value) in enumerate((matching or {}).items()):
        sql += f' AND "{table.name}"."{column}" = :match_{index}'
        parameters[f"match_{index}"] = value
    statement = text(sql)
    if only_if is not None:
        statement = text(f'{sql} AND "{table.name}"."{only_if[0]}" IN :allowed').bindparams(
            bindparam("allowed", expanding=True)
        )
        parameters["allowed"] = list(only_if[1])
    result = connection.execute(statement, parameters)
    staged.drop(connection)
    return int(result.rowcount)


def insert(connection: Connection, table: Table, frame: pl.DataFrame) -> int:
    return upsert(
        connection,
        table,
        frame,
        key=[c.name for c in table.primary_key.columns],
        merge={},
        touch=False,
    )


def append(connection: Connection, table: Table, frame: pl.DataFrame) -> int:
    """Add the frame's rows to ``table`` straight, no staging table: for a table whose key the database assigns
    (no key column in ``frame``), where a row can never collide with one already there."""
    if keys := [c.name for c in table.primary_key.columns if c.name in frame.columns]:
        raise ValueError(f"append to {table.name}: {keys} given, use insert")
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    for offset in range(0, frame.height, STAGE_CHUNK_ROWS):
        _fill(connection, table.name, columns, frame.slice(offset, STAGE_CHUNK_ROWS))
    return frame.height


FEW_KEYS = 200
"""Keys bound in an ``IN (...)`` list at most: fewer keys need no staging table (whose CREATE and DROP cost a few
milliseconds each time, a webhook batch's follow-ups several times)."""
_BY_FEW_KEYS: dict[tuple[Table, str, tuple[str, ...]], Any] = {}


def _by_few_keys(table: Table, key: str, columns: Sequence[str]) -> Any:
    """``SELECT columns FROM table WHERE key IN (:keys)``, built once per table, key and columns."""
    found = _BY_FEW_KEYS.get((table, key, tuple(columns)))
    if found is None:
        found = select(*[table.c[c] for c in columns]).where(table.c[key].in_(bindparam("keys", expanding=True)))
        _BY_FEW_KEYS[(table, key, tuple(columns))] = found
    return found


def fetch_by_keys(
    connection: Connection,
    table: Table,
    key: str,
    keys: pl.Series,
    columns: Sequence[str],
) -> pl.DataFrame:
    """Rows of ``table`` whose ``key`` is among ``keys``, as a typed frame (in no particular order)."""
    schema = schema_of(table, columns)
    distinct = keys.drop_nulls().unique()
    if distinct.is_empty():
        return pl.DataFrame(schema=schema)
    if distinct.len() <= FEW_KEYS:
        found = connection.execute(_by_few_keys(table, key, columns), {"keys": distinct.to_list()}).all()
        return pl.DataFrame(found, schema=schema, orient="row")
    staged = stage(connection, pl.DataFrame({key: distinct}), table)
    query = select(*[table.c[c] for c in columns]).join(staged, staged.c[key] == table.c[key])
    rows = connection.execute(query).all()
    staged.drop(connection)
    return pl.DataFrame(rows, schema=schema, orient="row")


def json_array(values: pl.Expr) -> pl.Expr:
    """A list column as JSON array text, vectorised (a struct's JSON without its wrapper)."""
    return pl.struct(values.alias("r")).struct.json_encode().str.strip_prefix('{"r":').str.strip_suffix("}")


def fetch(connection: Connection, query: object, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    rows = connection.execute(query).all()  # type: ignore[call-overload]
    return pl.DataFrame(rows, schema=dict(schema), orient="row")


def fetch_table(connection: Connection, table: Table, columns: Sequence[str]) -> pl.DataFrame:
    """``columns`` of every row of ``table``, typed by the table.

    On SQLite the driver's values go to polars as they come and dates (ISO text there) are parsed by
    polars: SQLAlchemy's result processing, one row and one date at a time, costs more than the read
    itself for a whole billing history."""
    types = schema_of(table, columns)
    query = select(*[table.c[c] for c in types])
    if connection.dialect.name != "sqlite" or not all(t in (pl.String, pl.Int64, pl.Date) for t in types.values()):
        return fetch(connection, query, types)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(query.compile(dialect=connection.dialect)))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    as_text = {c: pl.String() if t == pl.Date else t for c, t in types.items()}
    frame = pl.DataFrame(rows, schema=as_text, orient="row")
    return frame.with_columns(pl.col(c).str.to_date("%Y-%m-%d") for c, t in types.items() if t == pl.Date)
