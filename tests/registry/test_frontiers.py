"""Appends that start from the frontier this process kept build the same tree as appends that read every hash they
need, and ask for none; a frontier is only ever used for the tree it was taken from."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from catalog.settings import Settings
from registry import frontiers, log
from registry.context import bind
from registry.merkle import leaf_hash, root_from_leaf_hashes
from registry.models import LogCheckpoint, LogEntry
from storage.db import session_scope
from tests.support.statements import statements

# Batch sizes that cross subtree boundaries of many heights, and a batch larger than any frontier.
BATCHES = [1, 1, 2, 3, 1, 8, 5, 16, 1, 33, 7, 64, 2]


def _append(engine: Engine, settings: Settings, count: int) -> list[str]:
    """Append `count` events in a transaction of their own; the statements the append ran."""
    with session_scope(engine) as session:
        bind(session, datetime.now(UTC), settings.keyring())
        events = [
            log.Event(kind="test.event", subject=f"test:{i}", body={"n": i}, at=datetime.now(UTC)) for i in range(count)
        ]
        with statements(engine) as seen:
            log.append(session, settings.keyring(), events)
        session.commit()
    return seen


def _hash_reads(seen: list[str]) -> list[str]:
    return [s for s in seen if "FROM wanted" in s or "FROM log_node" in s]


def test_appends_from_a_kept_frontier_build_the_tree_that_reading_every_hash_builds(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    frontiers.forget()
    for n, count in enumerate(BATCHES):
        if n % 3 == 2:
            frontiers.forget()  # as in another process, or after a restart: the hashes are read
            assert _hash_reads(_append(engine, settings, count))
        else:
            assert _hash_reads(_append(engine, settings, count)) == []
    with session_scope(engine) as session:
        leaves = [leaf_hash(data) for data in session.execute(select(LogEntry.data).order_by(LogEntry.idx)).scalars()]
        checkpoints = session.execute(select(LogCheckpoint.tree_size, LogCheckpoint.root_hash)).all()
    assert len(leaves) == sum(BATCHES)
    # Every checkpoint signed along the way names the root of exactly the leaves before it.
    assert len(checkpoints) == len(BATCHES)
    assert all(root == root_from_leaf_hashes(leaves[:size]) for size, root in checkpoints)


def test_a_frontier_is_used_only_for_the_tree_it_was_taken_from() -> None:
    frontiers.forget()
    frontiers.remember(3, b"root-3", {(1, 0): b"a", (0, 2): b"b", (0, 9): b"other"})
    assert frontiers.known(3, b"root-3") == {(1, 0): b"a", (0, 2): b"b"}
    assert frontiers.known(3, b"another-root") == {}  # the same size with other leaves
    assert frontiers.known(4, b"root-3") == {}
    frontiers.remember(5, b"root-5", {(2, 0): b"a"})  # without the subtree of its last leaf: not kept
    assert frontiers.known(5, b"root-5") == {}
    for size in range(100, 100 + frontiers.KEPT + 1):
        frontiers.remember(size, b"r", {node: b"h" for node in frontiers.frontier(size)})
    assert frontiers.known(3, b"root-3") == {}  # the oldest went first
    assert frontiers.known(100 + frontiers.KEPT, b"r") != {}
