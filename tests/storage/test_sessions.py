"""Read and write sessions: a read session keeps no write unless upgraded, and on PostgreSQL the statements that
reads repeat are prepared once per connection rather than planned on every request."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from registry.models import Counter
from storage.db import session_scope, upgrade_to_write

# psycopg prepares a statement on a connection from its sixth run there (`prepare_threshold`, 5 by default).
PREPARED_FROM_RUN = 6


def _names(engine: Engine) -> set[str]:
    with session_scope(engine, write=False) as session:
        return set(session.exec(select(Counter.name)).all())


def test_a_read_session_keeps_no_write_unless_it_is_upgraded(engine: Engine) -> None:
    with session_scope(engine, write=False) as session:
        session.add(Counter(name="written-while-reading", value=1))
        if engine.dialect.name == "postgresql":
            # Its transaction is READ ONLY: the write is refused, never kept by the COMMIT that ends a read.
            with pytest.raises(DBAPIError, match="read-only transaction"):
                session.flush()
        else:
            session.flush()  # rolled back when the session closes
    with session_scope(engine, write=False) as session:
        assert session.exec(select(Counter).where(Counter.name == "missing")).first() is None
        upgrade_to_write(session)
        session.add(Counter(name="written-after-upgrade", value=2))
        session.commit()
    names = _names(engine)
    assert "written-after-upgrade" in names and "written-while-reading" not in names


def test_statements_that_reads_repeat_are_prepared_on_postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("psycopg's prepared statements are PostgreSQL's")
    query = text("SELECT value FROM counter WHERE name = :name")
    for _ in range(PREPARED_FROM_RUN):
        with session_scope(engine, write=False) as session:
            session.connection().execute(query, {"name": "n"}).all()
    with session_scope(engine, write=False) as session:
        prepared = session.connection().execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
    assert any("FROM counter WHERE name" in statement for statement in prepared), prepared
