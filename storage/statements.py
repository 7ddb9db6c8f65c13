"""Small helpers for hand-written SQL that every package shares."""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Table, TextClause, bindparam, text
from sqlalchemy.engine import Connection

T = TypeVar("T")


def expanding(sql: str, name: str) -> TextClause:
    """A text statement whose ``IN :name`` takes a list, expanded by SQLAlchemy into one parameter per value."""
    return text(sql).bindparams(bindparam(name, expanding=True))


def chunked(values: Sequence[T], size: int) -> Iterator[list[T]]:
    """Consecutive slices of at most size values: IN lists stay within every driver's parameter limit."""
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def for_driver(connection: Connection, sql: str) -> str:
    """SQL written with ``?`` placeholders, in the placeholder style of the connection's driver."""
    return sql if connection.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def driver_rows(connection: Connection, sql: str, params: tuple[Any, ...], size: int) -> Iterator[list[Any]]:
    """Rows straight from the driver in chunks of size, in the connection's transaction (begun by an earlier
    statement): no SQLAlchemy row objects, and never every row in memory at once."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(for_driver(connection, sql), params)
        while rows := cursor.fetchmany(size):
            yield list(rows)
    finally:
        cursor.close()


def executemany(connection: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Plain-typed rows (``?`` placeholders) straight to the driver's executemany, in the connection's transaction.

    SQLAlchemy's own executemany builds parameters row by row through its compiler; for bulk writes that costs
    more than the database's own work.
    """
    connection.exec_driver_sql(for_driver(connection, sql), list(rows))


def bulk_insert(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]], converted: Collection[str] = ()
) -> None:
    """Insert many rows of a table, with each column's own type conversion: PostgreSQL's COPY, else the driver's
    executemany.

    Every row has the keys of the first; the column types' bind processors are applied here directly, column by
    column, and only for the columns whose type converts values (JSON, times) and that the caller has not
    `converted` already: most pass as they are.
    """
    if not rows:
        return
    dialect = connection.dialect
    columns = [c for c in table.columns if c.name in rows[0]]
    names = [c.name for c in columns]
    row_values = operator.itemgetter(*names)
    values = [row_values(row) for row in rows] if len(names) > 1 else [(row[names[0]],) for row in rows]
    converters = [(i, c.type.dialect_impl(dialect).bind_processor(dialect)) for i, c in enumerate(columns)]
    converting = [(i, process) for i, process in converters if process is not None and names[i] not in converted]
    if converting:
        transposed = [list(column) for column in zip(*values, strict=True)]
        for i, process in converting:
            transposed[i] = _converted(transposed[i], process)
        values = list(zip(*transposed, strict=True))
    insert_rows(connection, table.name, names, values)


def _converted(values: list[Any], process: Callable[[Any], Any]) -> list[Any]:
    """A column's values through its bind processor; a time met again (a batch's one clock reading) is converted
    once."""
    done: dict[datetime, Any] = {}
    out: list[Any] = []
    for value in values:
        if value is None:
            out.append(None)
        elif not isinstance(value, datetime):
            out.append(process(value))
        elif value in done:
            out.append(done[value])
        else:
            out.append(done.setdefault(value, process(value)))
    return out


def insert_rows(connection: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Plain-typed rows into the named columns of a table, in the connection's transaction: PostgreSQL's COPY,
    else the driver's executemany.

    COPY sends the rows as one stream the server loads without planning a statement per row, and leaves psycopg
    no per-row round of its pipeline to drive; it escapes every value itself (tabs, line breaks, backslashes).
    """
    if not rows:
        return
    preparer = connection.dialect.identifier_preparer
    quoted = ", ".join(preparer.quote(name) for name in columns)
    target = preparer.quote(table)
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.cursor()
        try:
            with cursor.copy(f"COPY {target} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()
        return
    marks = ", ".join("?" for _ in columns)
    # The table and column names are the caller's own, quoted; every value travels as a bound parameter.
    executemany(connection, f"INSERT INTO {target} ({quoted}) VALUES ({marks})", rows)  # noqa: S608
