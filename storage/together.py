"""Rows of several tables inserted together in the caller's transaction: in one statement on PostgreSQL (each row but
the last in a data-modifying WITH clause), one statement per table elsewhere and for many rows."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, Table, bindparam, insert
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, SQLModel

# The rows of one table, as column name to value.
Rows = tuple[Table, list[dict[str, Any]]]

# Above this many rows, one statement per table: each row has a WITH clause of its own (below), and a statement of
# hundreds of them costs more to compile than the round trips it saves.
MAX_ROWS_TOGETHER = 64


def table_of(model: type[SQLModel]) -> Table:
    """The table a model maps."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def instance_rows(model: type[SQLModel], instances: Sequence[SQLModel]) -> Rows:
    """The rows of model instances whose every column is set (as their constructors set them)."""
    table = table_of(model)
    return table, [{column.key: getattr(one, column.key) for column in table.columns} for one in instances]


def insert_together(session: Session, writes: Sequence[Rows]) -> None:
    """Insert each table's rows, in the order given, in as few statements as the database allows."""
    writes = [(table, rows) for table, rows in writes if rows]
    count = sum(len(rows) for _, rows in writes)
    if session.get_bind().dialect.name != "postgresql" or count < 2 or count > MAX_ROWS_TOGETHER:
        for table, rows in writes:
            session.execute(insert(table), rows)
        return
    statement = _together(tuple((table, len(rows), tuple(rows[0])) for table, rows in writes))
    values = {
        _parameter(position, row, key): value
        for position, (_, rows) in enumerate(writes)
        for row, one in enumerate(rows)
        for key, value in one.items()
    }
    session.execute(statement, values)


def _parameter(position: int, row: int, key: str) -> str:
    """The bound parameter of a column's value in a row of the `position`-th table of a statement."""
    return f"v{position}_{row}_{key}"


# Shapes are few (a single issue's, a small batch's), and a statement built once is compiled once: SQLAlchemy caches
# the compiled form of single-row INSERTs by their structure, though not of multi-row ones, so each row has its own.
@functools.lru_cache(maxsize=64)
def _together(shape: Sequence[tuple[Table, int, tuple[str, ...]]]) -> Insert:
    """One statement inserting the rows of each table in `shape` (table, rows, columns), the last row in the statement
    itself and each other in a WITH clause of its own."""
    *first, statement = [
        insert(table).values({key: bindparam(_parameter(position, row, key)) for key in keys})
        for position, (table, count, keys) in enumerate(shape)
        for row in range(count)
    ]
    for position, written in enumerate(first):
        # A data-modifying WITH runs exactly once, to completion, whether or not the statement reads it.
        statement = statement.add_cte(written.cte(f"written_{position}"))
    return statement


def adopt(session: Session, instances: Sequence[SQLModel]) -> None:
    """Make instances that `insert_together` wrote persistent in the session, without writing them again."""
    for one in instances:
        make_transient_to_detached(one)
    session.add_all(instances)
