"""Small helpers for hand-written SQL that every package shares."""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
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


def bulk_insert(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows of a table through the driver's executemany, with each column's own type conversion.

    Every row has the keys of the first; the column types' bind processors are applied here directly, column by
    column, and only for the columns whose type converts values (JSON, times): most pass as they are.
    """
    if not rows:
        return
    dialect = connection.dialect
    columns = [c for c in table.columns if c.name in rows[0]]
    names = [c.name for c in columns]
    row_values = operator.itemgetter(*names)
    values = [row_values(row) for row in rows] if len(names) > 1 else [(row[names[0]],) for row in rows]
    converters = [(i, c.type.dialect_impl(dialect).bind_processor(dialect)) for i, c in enumerate(columns)]
    converting = [(i, process) for i, process in converters if process is not None]
    if converting:
        transposed = [list(column) for column in zip(*values, strict=True)]
        for i, process in converting:
            transposed[i] = [None if v is None else process(v) for v in transposed[i]]
        values = list(zip(*transposed, strict=True))
    marks = ", ".join("?" for _ in names)
    quoted = ", ".join(dialect.identifier_preparer.quote(n) for n in names)
    # The table and column names are the model's own, quoted; every value travels as a bound parameter.
    executemany(connection, f"INSERT INTO {table.name} ({quoted}) VALUES ({marks})", values)  # noqa: S608
