"""Small helpers for hand-written SQL that every package shares."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import TextClause, bindparam, text
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
