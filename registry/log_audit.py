"""`pdr log audit`: recompute the log from its stored entries and check everything that cites it.

Checks, in order: every entry's leaf hash; every stored subtree hash against its two children; the root of the
whole tree against the latest checkpoint, whose signature must verify; each checkpoint against the tree; and
every registry row that cites a log index against the entry at that index.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator

from sqlalchemy import func
from sqlmodel import Session, col, select

from registry import log
from registry.merkle import leaf_hash, node_hash, root_from_leaf_hashes
from registry.models import LogCheckpoint, LogEntry, LogNode, RegistrationStep
from registry.note import NoteError, parse_and_verify_checkpoint

Check = Callable[[Session], Iterator[str]]
_BATCH = 5000


def _nodes(session: Session, level: int) -> Iterator[LogNode]:
    after = -1
    while True:
        rows = session.exec(
            select(LogNode)
            .where(LogNode.level == level, col(LogNode.index) > after)
            .order_by(col(LogNode.index))
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].index


def _check_entries(session: Session) -> Iterator[str]:
    leaves = _nodes(session, 0)
    expected = 0
    for entry in log.iter_entries(session):
        if entry.idx != expected:
            yield f"log entry {expected} is missing (next stored is {entry.idx})"
            return
        leaf = next(leaves, None)
        if leaf is None or leaf.index != entry.idx or leaf.hash != leaf_hash(entry.data):
            yield f"log entry {entry.idx}: its bytes do not match the stored leaf hash"
            return
        try:
            envelope = json.loads(entry.data)
        except ValueError:
            yield f"log entry {entry.idx}: its bytes are not JSON"
            return
        if envelope.get("kind") != entry.kind or envelope.get("subject") != entry.subject:
            yield f"log entry {entry.idx}: kind or subject columns differ from its bytes"
            return
        expected += 1
    if next(leaves, None) is not None:
        yield f"the log has leaf hashes beyond its {expected} entries"


def _check_levels(session: Session) -> Iterator[str]:
    level = 1
    while True:
        children = _nodes(session, level - 1)
        parents = _nodes(session, level)
        found_any = False
        for parent in parents:
            found_any = True
            left, right = next(children, None), next(children, None)
            if left is None or right is None or left.index != 2 * parent.index or right.index != left.index + 1:
                yield f"subtree ({level}, {parent.index}) has no complete pair of children"
                return
            if parent.hash != node_hash(left.hash, right.hash):
                yield f"subtree ({level}, {parent.index}) does not hash its children"
                return
        if not found_any:
            return
        level += 1


def _check_checkpoints(session: Session, vkey: str, origin: str) -> Iterator[str]:
    size = int(session.exec(select(func.count()).select_from(LogEntry)).one())
    latest = log.latest_checkpoint(session)
    if latest is None:
        if size:
            yield f"the log has {size} entries but no checkpoint"
        return
    if latest.tree_size != size:
        yield f"the latest checkpoint is for {latest.tree_size} entries, the log has {size}"
        return
    leaves = [row.hash for row in _nodes(session, 0)]
    if root_from_leaf_hashes(leaves) != latest.root_hash:
        yield f"the root of the stored entries differs from the checkpoint of size {size}"
        return
    for checkpoint in session.exec(select(LogCheckpoint).order_by(col(LogCheckpoint.tree_size))).all():
        try:
            signed = parse_and_verify_checkpoint(checkpoint.note, vkey, origin)
        except NoteError as exc:
            yield f"checkpoint {checkpoint.tree_size}: {exc}"
            return
        if signed.size != checkpoint.tree_size or signed.root_hash != checkpoint.root_hash:
            yield f"checkpoint {checkpoint.tree_size}: the signed note differs from the stored row"
            return
        if root_from_leaf_hashes(leaves[: checkpoint.tree_size]) != checkpoint.root_hash:
            yield f"checkpoint {checkpoint.tree_size}: its root is not the root of that many entries"
            return


def check_registration_steps(session: Session) -> Iterator[str]:
    """Every registration step that cites a log index matches the entry there."""
    steps = session.exec(select(RegistrationStep).where(col(RegistrationStep.log_index).is_not(None))).all()
    for step in steps:
        assert step.log_index is not None
        entry = session.get(LogEntry, step.log_index)
        body = json.loads(entry.data).get("body", {}) if entry else {}
        if (
            entry is None
            or entry.subject != f"registration:{step.registration_id}"
            or entry.kind != f"registration.{step.action}"
            or body.get("to") != step.to_state
        ):
            yield f"registration step {step.id} does not match log entry {step.log_index}"
            return


def audit(session: Session, vkey: str, origin: str, extra_checks: Iterable[Check] = ()) -> Iterator[str]:
    """Every problem found, in order of the checks; the log is sound when there is none."""
    for check in (
        _check_entries,
        _check_levels,
        lambda s: _check_checkpoints(s, vkey, origin),
        check_registration_steps,
        *extra_checks,
    ):
        yield from check(session)
