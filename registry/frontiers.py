"""The right edges of recent trees, kept in each process: the stored hashes an append starts from, without a query.

A tree's frontier, its complete subtrees largest first, is all that an append needs of the stored tree: the new
leaves' left siblings, the parts of the new root and the consistency proof from the old size are among them. An
entry is named by its tree's size and root hash, which fix the tree's contents, so it is right for any database and
after any rollback: a rolled-back append leaves an entry that only a tree of exactly those leaves will match.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

from registry.merkle import Node

# Trees remembered: the last few appends of this process (one append names one tree).
KEPT = 16

_lock = threading.Lock()
_frontiers: OrderedDict[tuple[int, bytes], dict[Node, bytes]] = OrderedDict()


def frontier(size: int) -> list[Node]:
    """The complete subtrees a tree of `size` leaves splits into, largest first. Leaves appended to the tree are
    hashed in with some of these as left siblings, or with subtrees the append makes itself."""
    return [(level, (size >> level) - 1) for level in reversed(range(size.bit_length())) if size >> level & 1]


def known(size: int, root: bytes) -> dict[Node, bytes]:
    """The frontier's hashes of the tree of this size and root, if this process built it; else nothing."""
    with _lock:
        return dict(_frontiers.get((size, root), {}))


def remember(size: int, root: bytes, hashes: Mapping[Node, bytes]) -> None:
    """Keep the frontier of the tree of this size and root, from `hashes`, which must hold every subtree of it."""
    nodes = frontier(size)
    if any(node not in hashes for node in nodes):
        return
    with _lock:
        _frontiers[(size, root)] = {node: hashes[node] for node in nodes}
        _frontiers.move_to_end((size, root))
        while len(_frontiers) > KEPT:
            _frontiers.popitem(last=False)


def forget() -> None:
    """Drop every remembered frontier (tests that need the first append's reads)."""
    with _lock:
        _frontiers.clear()
