"""Reading the log's tree nodes costs one primary-key lookup per node on both engines, whatever the log's size."""

from __future__ import annotations

from sqlalchemy import Engine, insert, text

from registry.log import nodes_query
from registry.models import LogNode
from storage.db import session_scope

NODES = [(0, 5), (0, 900), (3, 7), (1, 2)]


def _plan(engine: Engine) -> str:
    statement, parameters = nodes_query(NODES)
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            # The table is small; forbid the sequential scan so the plan shows whether an index can serve the query.
            connection.execute(text("SET LOCAL enable_seqscan = off"))
        rows = connection.execute(text(explain + statement.text), parameters).all()
    return "\n".join(str(row[-1]) for row in rows)


def test_node_reads_use_the_primary_key(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.execute(
            insert(LogNode),
            [{"level": level, "index": index, "hash": b"h"} for level in range(4) for index in range(1000)],
        )
    plan = _plan(engine)
    assert "SCAN log_node" not in plan and "Seq Scan on log_node" not in plan, plan
    if engine.dialect.name == "sqlite":
        assert "SEARCH log_node USING INDEX sqlite_autoindex_log_node_1 (level=? AND index=?)" in plan, plan


def test_node_reads_return_exactly_the_nodes_asked_for(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.execute(
            insert(LogNode),
            [
                {"level": level, "index": index, "hash": bytes([level, index % 256])}
                for level in range(4)
                for index in range(1000)
            ],
        )
        statement, parameters = nodes_query(NODES)
        found = {(level, index): node for level, index, node in session.execute(statement, parameters).all()}
    assert found == {(level, index): bytes([level, index % 256]) for level, index in NODES}
