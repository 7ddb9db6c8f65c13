"""Rows of several tables inserted together in the caller's transaction: in one statement on PostgreSQL (each table
but the last in a data-modifying WITH clause), one statement per table elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, SQLModel

# The rows of one table, as column name to value.
Rows = tuple[Table, list[dict[str, Any]]]

# Above this many values, one statement per table: a multi-row VALUES of that size costs more to compile than the
# round trips it saves, and PostgreSQL takes at most 65,535 parameters a statement.
MAX_VALUES_TOGETHER = 2_000


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
    values = sum(len(rows) * len(rows[0]) for _, rows in writes)
    if session.get_bind().dialect.name != "postgresql" or len(writes) < 2 or values > MAX_VALUES_TOGETHER:
        for table, rows in writes:
            session.execute(insert(table), rows)
        return
    *first, (last_table, last_rows) = writes
    statement = insert(last_table).values(last_rows)
    for position, (table, rows) in enumerate(first):
        # A data-modifying WITH runs exactly once, to completion, whether or not the statement reads it.
        statement = statement.add_cte(insert(table).values(rows).cte(f"written_{position}"))
    session.execute(statement)


def adopt(session: Session, instances: Sequence[SQLModel]) -> None:
    """Make instances that `insert_together` wrote persistent in the session, without writing them again."""
    for one in instances:
        make_transient_to_detached(one)
    session.add_all(instances)
