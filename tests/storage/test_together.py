"""Rows of several tables inserted together: one statement on PostgreSQL, one a table on SQLite, all or nothing in
the caller's transaction, and model instances adopted by the session without a second INSERT."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from registry.models import Counter, LogNode
from storage.db import session_scope
from storage.together import MAX_ROWS_TOGETHER, adopt, insert_together, instance_rows, table_of
from tests.support.statements import statements


def _nodes(count: int, level: int = 0) -> list[dict[str, object]]:
    return [{"level": level, "index": n, "hash": bytes([n % 256]) * 32} for n in range(count)]


def _counts(engine: Engine) -> tuple[int, int]:
    with session_scope(engine) as session:
        nodes = session.exec(select(func.count()).select_from(LogNode)).one()
        counters = session.exec(select(func.count()).select_from(Counter)).one()
        return int(nodes), int(counters)


def test_rows_of_several_tables_go_in_one_statement_on_postgresql_and_one_a_table_elsewhere(engine: Engine) -> None:
    counters = [Counter(name=f"together-{n}", value=n) for n in range(3)]
    with session_scope(engine) as session, statements(engine) as seen:
        insert_together(
            session, [(table_of(LogNode), _nodes(4)), (table_of(Counter), []), instance_rows(Counter, counters)]
        )
        session.commit()
    inserts = [statement for statement in seen if statement.lstrip().upper().startswith(("INSERT", "WITH"))]
    assert len(inserts) == (1 if engine.dialect.name == "postgresql" else 2)  # the empty table is skipped
    assert _counts(engine) == (4, 3)


def test_a_refused_row_leaves_nothing_of_the_others(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(Counter(name="taken", value=1))
        session.commit()
        with pytest.raises(IntegrityError):
            insert_together(
                session, [(table_of(LogNode), _nodes(2)), instance_rows(Counter, [Counter(name="taken", value=2)])]
            )
        session.rollback()
    assert _counts(engine) == (0, 1)


def test_many_rows_go_in_one_statement_a_table(engine: Engine) -> None:
    many = _nodes(MAX_ROWS_TOGETHER)
    with session_scope(engine) as session, statements(engine) as seen:
        insert_together(session, [(table_of(LogNode), many), (table_of(LogNode), _nodes(1, level=1))])
        session.commit()
    assert not any(statement.lstrip().upper().startswith("WITH") for statement in seen)
    assert _counts(engine) == (len(many) + 1, 0)


def test_adopted_instances_are_persistent_and_not_written_again(engine: Engine) -> None:
    counter = Counter(name="adopted", value=7)
    with session_scope(engine) as session:
        insert_together(session, [instance_rows(Counter, [counter])])
        adopt(session, [counter])
        assert inspect(counter).persistent
        counter.value = 8  # an update of the adopted row, not a second insert
        session.commit()
    with session_scope(engine) as session:
        assert session.exec(select(Counter.value).where(Counter.name == "adopted")).all() == [8]
