"""The transparency log: an append-only RFC 6962 Merkle tree of registry events, in the registry's database.

Each event is one leaf: the RFC 8785 bytes of ``{"v", "kind", "at", "subject", "body"}``. Appends take a
log-wide lock (an advisory lock on PostgreSQL; SQLite's single writer does it there), store the entry and
the hashes of every complete subtree it completes, and end with a signed C2SP checkpoint for the new size,
checked to be consistent with the previous one. Everything commits with the registry change that caused it.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785
from sqlalchemy import ColumnElement, TextClause, func, text
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col, select

from registry import frontiers
from registry.keys import LOG, KeyRing, Signer
from registry.merkle import (
    EMPTY_ROOT,
    Node,
    append_leaf_hashes,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    nodes_for_consistency_proof,
    nodes_for_inclusion_proof,
    nodes_for_root,
    root_hash,
    verify_consistency,
)
from registry.models import LogCheckpoint, LogEntry, LogNode
from registry.note import sign_checkpoint
from registry.tiles import (
    ENTRIES,
    MAX_ENTRY_SIZE,
    TILE_HEIGHT,
    TILE_WIDTH,
    encode_entry_bundle,
    parse_tile_path,
    tile_width,
)
from registry.tlog_proof import format_tlog_proof
from storage.exceptions import Conflict, FieldProblem, InvalidInput, NotFound
from storage.together import Rows, insert_together, table_of

ENVELOPE_VERSION = 1
MAX_ENTRY_BYTES = MAX_ENTRY_SIZE  # entry bundles prefix each entry with a 16-bit length
# Any fixed 64-bit number names the log's advisory lock; this one spells "pdrlog".
_ADVISORY_LOCK_KEY = 0x7064726C6F67
# Where a session notes the transaction (or savepoint) that took the lock, so that later calls in it skip the statement.
_LOCK_TAKEN_IN = "log_lock_taken_in"


class LogInconsistent(Conflict):
    """The new checkpoint would not extend the last one: refuse to sign it."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)


@dataclass(frozen=True)
class Event:
    """One registry event to append."""

    kind: str
    subject: str
    body: dict[str, Any]
    at: datetime


def envelope_bytes(event: Event) -> bytes:
    """The canonical leaf bytes of an event; refuses envelopes over 64 KiB."""
    data = rfc8785.dumps(
        {
            "v": ENVELOPE_VERSION,
            "kind": event.kind,
            "at": event.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "subject": event.subject,
            "body": event.body,
        }
    )
    if len(data) > MAX_ENTRY_BYTES:
        raise InvalidInput(
            f"a log entry is limited to {MAX_ENTRY_BYTES} bytes; this one has {len(data)}",
            errors=[FieldProblem("body", "too large for the log")],
        )
    return data


# ---------------------------------------------------------------- hashes from the database


@functools.lru_cache(maxsize=64)
def _nodes_statement(count: int) -> TextClause:
    """The statement reading `count` nodes: a join of their (level, index) pairs with the primary key.

    Written as text: building the same query from SQL expressions cost more than the lookups themselves (a proof
    reads a node on each of about twenty levels). A row-value `IN` is no alternative: SQLite plans it as a scan of
    the whole node table.
    """
    pairs = ", ".join(f"(:l{n}, :i{n})" for n in range(count))
    return text(
        f"WITH wanted(level, idx) AS (VALUES {pairs}) "  # noqa: S608 - placeholders only, no value in the text
        'SELECT log_node.level, log_node."index", log_node.hash FROM wanted '
        'JOIN log_node ON log_node.level = wanted.level AND log_node."index" = wanted.idx'
    )


def nodes_query(nodes: Sequence[Node]) -> tuple[TextClause, dict[str, int]]:
    """The statement and parameters reading these nodes' hashes, one primary-key lookup per node on both engines."""
    parameters: dict[str, int] = {}
    for n, (level, index) in enumerate(nodes):
        parameters[f"l{n}"] = level
        parameters[f"i{n}"] = index
    return _nodes_statement(len(nodes)), parameters


class _DbNodes:
    """Subtree hashes from log_node, with the ones added in this batch on top."""

    def __init__(self, session: Session, pending: dict[Node, bytes] | None = None) -> None:
        self.session = session
        self.pending = pending if pending is not None else {}

    def read_subtree_hash(self, level: int, index: int) -> bytes:
        """One stored subtree hash; KeyError when the subtree is not complete."""
        found = self.pending.get((level, index))
        if found is not None:
            return found
        row = self.session.get(LogNode, (level, index))
        if row is None:
            raise KeyError((level, index))
        return row.hash

    def prefetch(self, nodes: Sequence[Node]) -> _DbNodes:
        """Load many nodes in one query, for proofs and roots."""
        wanted = [node for node in nodes if node not in self.pending]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            # Plain rows, not ORM objects: a proof reads a few dozen and building objects would cost more.
            statement, parameters = nodes_query(chunk)
            rows = self.session.execute(statement, parameters).all()
            self.pending.update({(level, index): node for level, index, node in rows})
        return self


# ---------------------------------------------------------------- appending


def lock(session: Session) -> None:
    """Take the log-wide append lock for the rest of the transaction (PostgreSQL; SQLite writers hold it already)."""
    if session.get_bind().dialect.name != "postgresql" or _holds_lock(session):
        return
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
    session.info[_LOCK_TAKEN_IN] = weakref.ref(_innermost_transaction(session))


def _innermost_transaction(session: Session) -> SessionTransaction:
    transaction = session.get_nested_transaction() or session.get_transaction()
    assert transaction is not None, "a statement has just run, so a transaction is in progress"
    return transaction


def _holds_lock(session: Session) -> bool:
    """Whether this transaction took the lock already: in itself or in a savepoint of it still open. A savepoint
    rolled back released the lock, and a transaction ended released it too; neither counts."""
    taken = session.info.get(_LOCK_TAKEN_IN)
    taker = taken() if taken is not None else None
    if taker is None or not taker.is_active or not session.in_transaction():
        return False
    transaction: SessionTransaction | None = _innermost_transaction(session)
    while transaction is not None and transaction is not taker:
        transaction = transaction.parent
    return transaction is taker


def entry_count() -> ColumnElement[int]:
    """The number of entries in the log, as an expression to read with other things."""
    return func.coalesce(func.max(LogEntry.idx) + 1, 0)


def _size(session: Session) -> int:
    return int(session.exec(select(entry_count())).one())


def latest_checkpoint(session: Session) -> LogCheckpoint | None:
    """The newest signed checkpoint."""
    return session.exec(select(LogCheckpoint).order_by(col(LogCheckpoint.tree_size).desc()).limit(1)).first()


def _size_and_last(session: Session) -> tuple[int, LogCheckpoint | None]:
    """The number of entries and the newest checkpoint, read together."""
    size = select(entry_count()).scalar_subquery()
    found = session.exec(select(LogCheckpoint, size).order_by(col(LogCheckpoint.tree_size).desc()).limit(1)).first()
    if found is None:
        return _size(session), None  # no checkpoint yet, so no row to carry the size
    last, entries = found
    return int(entries), last


def _stored_nodes_read(start: int, size: int, last: LogCheckpoint | None) -> list[Node]:
    """The stored subtrees an append growing the log from `start` to `size` leaves reads, to be asked for in one
    query: left siblings, the new root's parts and the consistency proof's; those the append creates end past `start`
    and are left out."""
    nodes = [*frontiers.frontier(start), *nodes_for_root(size)]
    if last is not None and last.tree_size < size:
        nodes += nodes_for_consistency_proof(last.tree_size, size)
    return list({(level, index): None for level, index in nodes if (index + 1) << level <= start})


@dataclass(frozen=True)
class Appended:
    """An append worked out and its checkpoint signed, not yet written: the events' indexes and the rows to insert."""

    indexes: list[int]
    writes: list[Rows]


def append(session: Session, keyring: KeyRing, events: Sequence[Event]) -> list[int]:
    """Append events as leaves and sign one checkpoint for the batch; returns their indexes."""
    appended = prepare_append(session, keyring, events)
    insert_together(session, appended.writes)
    return appended.indexes


def prepare_append(
    session: Session,
    keyring: KeyRing,
    events: Sequence[Event],
    signer: Signer | None = None,
    head: tuple[int, LogCheckpoint] | None = None,
) -> Appended:
    """An append of `events` worked out under the log's lock, for the caller to write (with rows of its own) before
    anything else appends in its transaction. `signer` is the log key and `head` the log's size and newest
    checkpoint, when the caller has read them under the lock with no append since."""
    if not events:
        return Appended([], [])
    key, private_key = signer or keyring.signer(session, LOG)
    lock(session)
    start, last = head or _size_and_last(session)
    datas = [envelope_bytes(event) for event in events]
    hashes = [leaf_hash(data) for data in datas]
    size = start + len(events)
    # The log's frontier as this process left it, when the newest checkpoint names the tree it built: then the
    # stored hashes the append needs are all known, and none is read.
    known = frontiers.known(start, last.root_hash) if last is not None and last.tree_size == start else {}
    reader = _DbNodes(session, known).prefetch(_stored_nodes_read(start, size, last))
    new_nodes = append_leaf_hashes(start, hashes, reader)
    reader.pending.update({(node.level, node.index): node.hash for node in new_nodes})
    root = root_hash(size, reader)
    _check_extends(last, reader, size, root)
    frontiers.remember(size, root, reader.pending)
    note = sign_checkpoint(key.name, size, root, private_key)
    # Plain multi-row inserts rather than ORM objects: a batch writes a thousand rows, and flushing objects cost more
    # than everything else an append does. A concurrent writer of the same size fails on the primary key.
    entries = [
        {"idx": start + offset, "kind": event.kind, "subject": event.subject, "at": event.at, "data": data}
        for offset, (event, data) in enumerate(zip(events, datas, strict=True))
    ]
    nodes = [{"level": n.level, "index": n.index, "hash": n.hash} for n in new_nodes]
    checkpoint = {"tree_size": size, "root_hash": root, "note": note, "key_id": key.id, "created_at": events[-1].at}
    writes = [(table_of(LogEntry), entries), (table_of(LogNode), nodes), (table_of(LogCheckpoint), [checkpoint])]
    return Appended(list(range(start, size)), writes)


def _check_extends(last: LogCheckpoint | None, reader: _DbNodes, size: int, root: bytes) -> None:
    if last is None:
        return
    if last.tree_size >= size:
        raise LogInconsistent(f"the log already has a checkpoint of size {last.tree_size}, not below {size}")
    proof = consistency_proof(last.tree_size, size, reader)
    if not verify_consistency(last.tree_size, size, last.root_hash, root, proof):
        raise LogInconsistent(f"the tree of size {size} does not extend the checkpoint of size {last.tree_size}")


# ---------------------------------------------------------------- reading


def current_checkpoint(session: Session) -> LogCheckpoint:
    """The newest signed checkpoint; 404 while the log is empty."""
    latest = latest_checkpoint(session)
    if latest is None:
        raise NotFound("the log is empty")
    return latest


def signed_size(session: Session) -> int:
    """The size the latest checkpoint vouches for (0 when there is none)."""
    checkpoint = latest_checkpoint(session)
    return checkpoint.tree_size if checkpoint else 0


def _check_size(session: Session, tree_size: int, field: str) -> None:
    signed = signed_size(session)
    if not 1 <= tree_size <= signed:
        raise InvalidInput(
            f"{field} must be between 1 and the signed tree size {signed}",
            errors=[FieldProblem(field, f"between 1 and {signed}")],
        )


def entry(session: Session, index: int) -> LogEntry:
    """One entry, if a checkpoint covers it."""
    found = session.get(LogEntry, index) if 0 <= index < signed_size(session) else None
    if found is None:
        raise NotFound(f"no log entry {index}")
    return found


def inclusion(session: Session, index: int, tree_size: int) -> list[bytes]:
    """The inclusion proof of a leaf in a signed tree size, in RFC 9162 order."""
    _check_size(session, tree_size, "tree_size")
    if not 0 <= index < tree_size:
        raise InvalidInput(
            "index is not in that tree", errors=[FieldProblem("index", f"between 0 and {tree_size - 1}")]
        )
    reader = _DbNodes(session).prefetch(nodes_for_inclusion_proof(index, tree_size))
    return inclusion_proof(index, tree_size, reader)


def consistency(session: Session, first: int, second: int) -> list[bytes]:
    """The consistency proof between two signed tree sizes, in RFC 9162 order."""
    _check_size(session, second, "second")
    if not 1 <= first <= second:
        raise InvalidInput("first must be between 1 and second", errors=[FieldProblem("first", f"1 to {second}")])
    reader = _DbNodes(session).prefetch(nodes_for_consistency_proof(first, second))
    return consistency_proof(first, second, reader)


def tree_root(session: Session, tree_size: int) -> bytes:
    """The root hash of the tree of a given size."""
    if tree_size == 0:
        return EMPTY_ROOT
    return root_hash(tree_size, _DbNodes(session).prefetch(nodes_for_root(tree_size)))


def hash_tile(session: Session, level: int, index: int, width: int | None) -> bytes:
    """A C2SP hash tile: at tile level L, the hashes of Merkle level 8L, up to the signed size."""
    width = width or TILE_WIDTH
    if tile_width(level, index, signed_size(session)) < width:
        raise NotFound("no such tile at the signed tree size")
    first = index * TILE_WIDTH
    rows = session.exec(
        select(LogNode.hash)
        .where(LogNode.level == level * TILE_HEIGHT, col(LogNode.index) >= first, col(LogNode.index) < first + width)
        .order_by(col(LogNode.index))
    ).all()
    if len(rows) != width:
        raise NotFound("no such tile at the signed tree size")
    return b"".join(rows)


def entry_bundle(session: Session, index: int, width: int | None) -> bytes:
    """A C2SP entry bundle: the entries of one data tile, each length-prefixed."""
    width = width or TILE_WIDTH
    if tile_width(ENTRIES, index, signed_size(session)) < width:
        raise NotFound("no such entry bundle at the signed tree size")
    first = index * TILE_WIDTH
    rows = session.exec(
        select(LogEntry.data)
        .where(col(LogEntry.idx) >= first, col(LogEntry.idx) < first + width)
        .order_by(col(LogEntry.idx))
    ).all()
    return encode_entry_bundle(list(rows))


def read_tile(session: Session, path: str) -> tuple[bytes, bool]:
    """A hash tile or an entry bundle by its C2SP tlog-tiles path below ``tile/``, and whether it is partial."""
    try:
        level, index, width = parse_tile_path("tile/" + path)
    except ValueError as exc:
        raise NotFound("not a tile path") from exc
    if level == ENTRIES:
        data = entry_bundle(session, index, width)
    else:
        assert isinstance(level, int)
        data = hash_tile(session, level, index, width)
    return data, bool(width)


def iter_entries(session: Session, batch: int = 5000) -> Iterator[LogEntry]:
    """Every entry in index order, a batch at a time."""
    after = -1
    while True:
        rows = session.exec(
            select(LogEntry).where(col(LogEntry.idx) > after).order_by(col(LogEntry.idx)).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].idx


def proof_text(session: Session, index: int, what: str) -> str:
    """The c2sp.org/tlog-proof of the entry at `index` under the latest checkpoint; Conflict naming `what` when the
    log has no checkpoint yet."""
    checkpoint = latest_checkpoint(session)
    if checkpoint is None:
        raise Conflict(f"the {what} is not in the transparency log")
    return format_tlog_proof(index, inclusion(session, index, checkpoint.tree_size), checkpoint.note)
