"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and proof verification.

The tree is never held in memory. Callers store the hash of every *complete*
subtree as leaves are appended (`append_nodes` says which ones appear), and
proofs are computed from those stored hashes through a `HashReader`.
Subtree ``(level, index)`` is the perfect subtree of ``2**level`` leaves
covering ``[index * 2**level, (index + 1) * 2**level)``; level 0 holds leaf hashes.

Every hash a proof or root needs for a tree of ``n`` leaves is the hash of a
range that splits into at most ``log2(n) + 1`` stored subtrees, so any proof
costs O(log n) reads. A database can ask `nodes_for_inclusion_proof` /
`nodes_for_consistency_proof` / `nodes_for_root` which subtrees will be read,
fetch them in one query, and hand them over in a `MemoryHashStore`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# A subtree coordinate: (level, index).
Node = tuple[int, int]


@dataclass(frozen=True, slots=True)
class SubtreeHash:
    """The hash of the complete subtree ``(level, index)``."""

    level: int
    index: int
    hash: bytes


class HashReader(Protocol):
    """Read access to stored hashes of complete subtrees."""

    def read_subtree_hash(self, level: int, index: int) -> bytes:
        """Return the hash of complete subtree (level, index); raise KeyError if not stored."""
        ...


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 leaf hash SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle tree hash of a list of leaf hashes (SHA-256 of nothing when empty)."""
    if not hashes:
        return EMPTY_ROOT
    # Stack of complete subtrees (level, hash), levels strictly decreasing: the
    # binary decomposition of the leaves seen so far, built in O(n).
    stack: list[tuple[int, bytes]] = []
    for h in hashes:
        level, current = 0, h
        while stack and stack[-1][0] == level:
            _, left = stack.pop()
            current = node_hash(left, current)
            level += 1
        stack.append((level, current))
    # RFC 6962 splits at the largest power of two, so the incomplete right edge
    # folds right to left.
    root = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        root = node_hash(left, root)
    return root


def append_nodes(leaf_index: int, leaf_hash: bytes, reader: HashReader) -> list[SubtreeHash]:
    """Return the complete subtrees created by appending the leaf at leaf_index, leaf first."""
    if leaf_index < 0:
        raise ValueError("leaf_index must be non-negative")
    created = [SubtreeHash(0, leaf_index, leaf_hash)]
    current = leaf_hash
    level, index = 0, leaf_index
    # Each time the new node is a right child, its parent just became complete.
    while index & 1:
        left = reader.read_subtree_hash(level, index - 1)
        current = node_hash(left, current)
        level, index = level + 1, index >> 1
        created.append(SubtreeHash(level, index, current))
    return created


def append_leaf_hashes(start_index: int, hashes: Iterable[bytes], reader: HashReader) -> list[SubtreeHash]:
    """Return the complete subtrees created by appending several leaves in one batch."""
    # Left siblings may be part of the same, not yet persisted, batch.
    overlay = MemoryHashStore()
    stacked = _StackedReader(overlay, reader)
    created: list[SubtreeHash] = []
    for offset, h in enumerate(hashes):
        for node in append_nodes(start_index + offset, h, stacked):
            overlay.nodes[(node.level, node.index)] = node.hash
            created.append(node)
    return created


def range_hash(start: int, end: int, reader: HashReader) -> bytes:
    """Return MTH(D[start:end]), reading O(log n) subtrees when start is aligned as in proofs."""
    return _range_hash(start, end, reader.read_subtree_hash)


def root_hash(tree_size: int, reader: HashReader) -> bytes:
    """Return the root hash of the tree of tree_size leaves."""
    if tree_size < 0:
        raise ValueError("tree_size must be non-negative")
    return _range_hash(0, tree_size, reader.read_subtree_hash)


def inclusion_proof(index: int, tree_size: int, reader: HashReader) -> list[bytes]:
    """Return the RFC 9162 inclusion proof (leaf sibling first) for leaf index in tree_size."""
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf index {index} is not in a tree of size {tree_size}")
    read = reader.read_subtree_hash
    return [_range_hash(a, b, read) for a, b in _inclusion_ranges(index, 0, tree_size)]


def consistency_proof(first: int, second: int, reader: HashReader) -> list[bytes]:
    """Return the RFC 9162 consistency proof between tree sizes first and second."""
    if not 0 <= first <= second:
        raise ValueError(f"need 0 <= first <= second, got {first} and {second}")
    if first == 0 or first == second:
        return []
    read = reader.read_subtree_hash
    return [_range_hash(a, b, read) for a, b in _consistency_ranges(first, 0, second, True)]


def nodes_for_root(tree_size: int) -> list[Node]:
    """Return the stored subtrees root_hash reads, so a caller can fetch them in one query."""
    return _recorded(lambda read: _range_hash(0, tree_size, read))


def nodes_for_inclusion_proof(index: int, tree_size: int) -> list[Node]:
    """Return the stored subtrees inclusion_proof reads."""
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf index {index} is not in a tree of size {tree_size}")

    def run(read: Callable[[int, int], bytes]) -> None:
        for a, b in _inclusion_ranges(index, 0, tree_size):
            _range_hash(a, b, read)

    return _recorded(run)


def nodes_for_consistency_proof(first: int, second: int) -> list[Node]:
    """Return the stored subtrees consistency_proof reads."""
    if not 0 <= first <= second:
        raise ValueError(f"need 0 <= first <= second, got {first} and {second}")
    if first == 0 or first == second:
        return []

    def run(read: Callable[[int, int], bytes]) -> None:
        for a, b in _consistency_ranges(first, 0, second, True):
            _range_hash(a, b, read)

    return _recorded(run)


def verify_inclusion(leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Check an inclusion proof by the algorithm of RFC 9162 section 2.1.3.2."""
    if not 0 <= index < tree_size or any(len(p) != HASH_SIZE for p in proof):
        return False
    fn, sn = index, tree_size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """Check a consistency proof by the algorithm of RFC 9162 section 2.1.4.2."""
    if not 0 <= first <= second or any(len(p) != HASH_SIZE for p in proof):
        return False
    # The RFC only covers 0 < first < second; the two trivial cases have empty proofs.
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


class MemoryHashStore:
    """An in-memory HashReader: a dict of complete subtree hashes, appendable."""

    def __init__(self, nodes: Mapping[Node, bytes] | None = None) -> None:
        self.nodes: dict[Node, bytes] = dict(nodes or {})
        self.size = 0

    def read_subtree_hash(self, level: int, index: int) -> bytes:
        """Return the stored hash of complete subtree (level, index)."""
        return self.nodes[(level, index)]

    def append_leaf_hash(self, leaf_hash: bytes) -> list[SubtreeHash]:
        """Append a leaf hash at index size, store and return the new complete subtrees."""
        created = append_nodes(self.size, leaf_hash, self)
        for node in created:
            self.nodes[(node.level, node.index)] = node.hash
        self.size += 1
        return created

    def append(self, data: bytes) -> list[SubtreeHash]:
        """Append a leaf's data (hashed with leaf_hash)."""
        return self.append_leaf_hash(leaf_hash(data))


class _StackedReader:
    def __init__(self, top: MemoryHashStore, bottom: HashReader) -> None:
        self.top, self.bottom = top, bottom

    def read_subtree_hash(self, level: int, index: int) -> bytes:
        found = self.top.nodes.get((level, index))
        return found if found is not None else self.bottom.read_subtree_hash(level, index)


def _split(n: int) -> int:
    """Largest power of two strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _range_hash(start: int, end: int, read: Callable[[int, int], bytes]) -> bytes:
    if not 0 <= start <= end:
        raise ValueError(f"bad range [{start}, {end})")
    size = end - start
    if size == 0:
        return EMPTY_ROOT
    # A power-of-two range aligned on its own size is one stored subtree.
    if size & (size - 1) == 0 and start % size == 0:
        level = size.bit_length() - 1
        return read(level, start >> level)
    k = _split(size)
    return node_hash(_range_hash(start, start + k, read), _range_hash(start + k, end, read))


def _inclusion_ranges(m: int, offset: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form PATH(m, D[offset:offset+size]), RFC 9162 2.1.3.1."""
    if size == 1:
        return []
    k = _split(size)
    if m < k:
        return [*_inclusion_ranges(m, offset, k), (offset + k, offset + size)]
    return [*_inclusion_ranges(m - k, offset + k, size - k), (offset, offset + k)]


def _consistency_ranges(m: int, offset: int, size: int, b: bool) -> list[tuple[int, int]]:
    """The ranges whose hashes form SUBPROOF(m, D[offset:offset+size], b), RFC 9162 2.1.4.1."""
    if m == size:
        return [] if b else [(offset, offset + size)]
    k = _split(size)
    if m <= k:
        return [*_consistency_ranges(m, offset, k, b), (offset + k, offset + size)]
    return [*_consistency_ranges(m - k, offset + k, size - k, False), (offset, offset + k)]


def _recorded(run: Callable[[Callable[[int, int], bytes]], object]) -> list[Node]:
    """Run a computation with a reader that records coordinates instead of reading."""
    seen: dict[Node, None] = {}

    def read(level: int, index: int) -> bytes:
        seen[(level, index)] = None
        return EMPTY_ROOT

    run(read)
    return list(seen)
