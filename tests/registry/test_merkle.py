import hashlib

import pytest
from tlog_scales.tlog import (
    ConsistencyProof,
    ConsistencyProofInvalid,
    InclusionProof,
    InclusionProofInvalid,
)

from registry.merkle import (
    EMPTY_ROOT,
    MemoryHashStore,
    append_leaf_hashes,
    append_nodes,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    nodes_for_consistency_proof,
    nodes_for_inclusion_proof,
    nodes_for_root,
    range_hash,
    root_from_leaf_hashes,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

SIZES = [*range(1, 71), 127, 128, 129, 255, 256, 257, 1000]


def data(i: int) -> bytes:
    return f"entry {i}".encode()


def build(n: int) -> tuple[MemoryHashStore, list[bytes]]:
    store = MemoryHashStore()
    hashes = []
    for i in range(n):
        store.append(data(i))
        hashes.append(leaf_hash(data(i)))
    return store, hashes


# Naive RFC 6962 / 9162 definitions over the full list of leaf hashes, written
# straight from the RFC text to compare against.
def naive_mth(hashes: list[bytes]) -> bytes:
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + naive_mth(hashes[:k]) + naive_mth(hashes[k:])).digest()


def naive_path(m: int, hashes: list[bytes]) -> list[bytes]:
    n = len(hashes)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*naive_path(m, hashes[:k]), naive_mth(hashes[k:])]
    return [*naive_path(m - k, hashes[k:]), naive_mth(hashes[:k])]


def naive_subproof(m: int, hashes: list[bytes], b: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if b else [naive_mth(hashes)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*naive_subproof(m, hashes[:k], b), naive_mth(hashes[k:])]
    return [*naive_subproof(m - k, hashes[k:], False), naive_mth(hashes[:k])]


def flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


@pytest.fixture(scope="module")
def big() -> tuple[MemoryHashStore, list[bytes]]:
    return build(1000)


def test_hash_primitives() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert root_from_leaf_hashes([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


# The Certificate Transparency reference tree (certificate-transparency-go test data).
CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_PROOF_0_8 = [
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
]


def test_certificate_transparency_reference_vectors() -> None:
    store = MemoryHashStore()
    hashes = [leaf_hash(bytes.fromhex(x)) for x in CT_LEAVES]
    for h in hashes:
        store.append_leaf_hash(h)
    for n in range(9):
        assert root_from_leaf_hashes(hashes[:n]).hex() == CT_ROOTS[n]
        assert root_hash(n, store).hex() == CT_ROOTS[n]
    proof = inclusion_proof(0, 8, store)
    assert [p.hex() for p in proof] == CT_PROOF_0_8
    assert verify_inclusion(hashes[0], 0, 8, proof, bytes.fromhex(CT_ROOTS[8]))


@pytest.mark.parametrize("n", SIZES)
def test_roots_match_naive(n: int, big: tuple[MemoryHashStore, list[bytes]]) -> None:
    store, hashes = big
    expected = naive_mth(hashes[:n])
    assert root_from_leaf_hashes(hashes[:n]) == expected
    assert root_hash(n, store) == expected
    assert range_hash(0, n, store) == expected


def test_append_nodes_are_all_complete_subtrees(big: tuple[MemoryHashStore, list[bytes]]) -> None:
    store, hashes = big
    for (level, index), h in store.nodes.items():
        width = 1 << level
        assert (index + 1) * width <= 1000
        assert h == naive_mth(hashes[index * width : (index + 1) * width])
    # Every complete subtree of 1000 leaves is stored: sum over levels of 1000 >> level.
    assert len(store.nodes) == sum(1000 >> lv for lv in range(10))


def test_append_nodes_reports_new_parents() -> None:
    store, _ = build(3)
    created = append_nodes(3, leaf_hash(data(3)), store)
    assert [(c.level, c.index) for c in created] == [(0, 3), (1, 1), (2, 0)]
    assert created[-1].hash == root_from_leaf_hashes([leaf_hash(data(i)) for i in range(4)])


def test_append_leaf_hashes_batch_equals_one_by_one(big: tuple[MemoryHashStore, list[bytes]]) -> None:
    store, hashes = big
    persisted = MemoryHashStore({k: v for k, v in store.nodes.items() if (k[1] + 1) << k[0] <= 300})
    created = append_leaf_hashes(300, hashes[300:1000], persisted)
    for node in created:
        persisted.nodes[(node.level, node.index)] = node.hash
    assert persisted.nodes == store.nodes


@pytest.mark.parametrize("n", SIZES)
def test_inclusion_proofs_match_naive_and_verify(n: int, big: tuple[MemoryHashStore, list[bytes]]) -> None:
    store, hashes = big
    root = naive_mth(hashes[:n])
    step = 1 if n <= 70 else 7
    for i in [*range(0, n, step), n - 1]:
        proof = inclusion_proof(i, n, store)
        assert proof == naive_path(i, hashes[:n])
        assert verify_inclusion(hashes[i], i, n, proof, root)
        # Independent RFC 9162 verifier.
        InclusionProof(i, n, proof).check(hashes[i], root)
        # The proof must not verify another leaf, index or size.
        other = (i + 1) % n
        if other != i:
            assert not verify_inclusion(hashes[other], i, n, proof, root)
            assert not verify_inclusion(hashes[i], other, n, proof, root)


@pytest.mark.parametrize("n", SIZES)
def test_consistency_proofs_match_naive_and_verify(n: int, big: tuple[MemoryHashStore, list[bytes]]) -> None:
    store, hashes = big
    second_root = naive_mth(hashes[:n])
    step = 1 if n <= 70 else 11
    for m in [*range(0, n + 1, step), n]:
        proof = consistency_proof(m, n, store)
        first_root = naive_mth(hashes[:m])
        expected = [] if m in (0, n) else naive_subproof(m, hashes[:n], True)
        assert proof == expected
        assert verify_consistency(m, n, first_root, second_root, proof)
        ConsistencyProof(m, n, proof).check(first_root, second_root)
        if 0 < m < n:
            assert not verify_consistency(m, n, first_root, flip(second_root), proof)
            assert not verify_consistency(m, n, flip(first_root), second_root, proof)
            if m + 1 < n:
                assert not verify_consistency(m + 1, n, first_root, second_root, proof)


def test_tampered_proof_hashes_fail_here_and_in_tlog_scales(big: tuple[MemoryHashStore, list[bytes]]) -> None:
    store, hashes = big
    root = root_hash(1000, store)
    proof = inclusion_proof(123, 1000, store)
    for j in range(len(proof)):
        bad = list(proof)
        bad[j] = flip(bad[j])
        assert not verify_inclusion(hashes[123], 123, 1000, bad, root)
        with pytest.raises(InclusionProofInvalid):
            InclusionProof(123, 1000, bad).check(hashes[123], root)
    assert not verify_inclusion(hashes[123], 123, 1000, [*proof, proof[0]], root)
    assert not verify_inclusion(hashes[123], 123, 1000, proof[:-1], root)

    cproof = consistency_proof(300, 1000, store)
    old = root_hash(300, store)
    for j in range(len(cproof)):
        bad = list(cproof)
        bad[j] = flip(bad[j])
        assert not verify_consistency(300, 1000, old, root, bad)
        with pytest.raises(ConsistencyProofInvalid):
            ConsistencyProof(300, 1000, bad).check(old, root)


def test_verify_edge_cases() -> None:
    h = leaf_hash(b"a")
    assert verify_inclusion(h, 0, 1, [], h)
    assert not verify_inclusion(h, 0, 0, [], h)
    assert not verify_inclusion(h, 1, 1, [], h)
    assert not verify_inclusion(h, 0, 2, [b"short"], h)
    assert verify_consistency(0, 5, EMPTY_ROOT, h, [])
    assert not verify_consistency(0, 5, h, h, [])
    assert verify_consistency(3, 3, h, h, [])
    assert not verify_consistency(3, 3, h, EMPTY_ROOT, [])
    assert not verify_consistency(3, 3, h, h, [h])
    assert not verify_consistency(4, 3, h, h, [])
    assert not verify_consistency(2, 3, h, h, [])


def test_interior_node_is_not_a_leaf() -> None:
    store, hashes = build(4)
    root = root_hash(4, store)
    left, right = store.read_subtree_hash(1, 0), store.read_subtree_hash(1, 1)
    assert node_hash(left, right) == root
    # A short proof from an interior node reaches the root, but must not count as inclusion.
    assert not verify_inclusion(left, 0, 4, [right], root)
    with pytest.raises(InclusionProofInvalid):
        InclusionProof(0, 4, [right]).check(left, root)
    assert verify_inclusion(hashes[0], 0, 4, inclusion_proof(0, 4, store), root)


def test_bad_arguments_raise() -> None:
    store, _ = build(4)
    with pytest.raises(ValueError):
        inclusion_proof(4, 4, store)
    with pytest.raises(ValueError):
        inclusion_proof(-1, 4, store)
    with pytest.raises(ValueError):
        consistency_proof(5, 4, store)
    with pytest.raises(KeyError):
        inclusion_proof(0, 5, store)  # leaf 4 was never stored


def test_nodes_for_proofs_name_exactly_the_reads(big: tuple[MemoryHashStore, list[bytes]]) -> None:
    store, _ = big
    for n in (1, 5, 256, 257, 999, 1000):
        needed = nodes_for_root(n)
        sub = MemoryHashStore({k: store.nodes[k] for k in needed})
        assert root_hash(n, sub) == root_hash(n, store)
        for i in (0, n // 3, n - 1):
            needed = nodes_for_inclusion_proof(i, n)
            sub = MemoryHashStore({k: store.nodes[k] for k in needed})
            assert inclusion_proof(i, n, sub) == inclusion_proof(i, n, store)
        for m in (1, n // 2, n - 1):
            if 0 < m < n:
                needed = nodes_for_consistency_proof(m, n)
                sub = MemoryHashStore({k: store.nodes[k] for k in needed})
                assert consistency_proof(m, n, sub) == consistency_proof(m, n, store)


class CountingReader:
    """Answers any complete subtree inside tree_size with a fake hash, counting reads."""

    def __init__(self, tree_size: int) -> None:
        self.tree_size = tree_size
        self.reads = 0

    def read_subtree_hash(self, level: int, index: int) -> bytes:
        assert (index + 1) << level <= self.tree_size, "read of an incomplete subtree"
        self.reads += 1
        return hashlib.sha256(f"{level}/{index}".encode()).digest()


@pytest.mark.parametrize("n", [1_000_000, 1_048_576, 1_048_577, 123_456_789])
def test_proofs_read_logarithmically_many_subtrees(n: int) -> None:
    bound = 2 * n.bit_length() + 2
    for i in (0, 1, n // 2, n - 2, n - 1):
        reader = CountingReader(n)
        assert len(inclusion_proof(i, n, reader)) <= n.bit_length()
        assert reader.reads <= bound
    for m in (1, 3, n // 3, n - 1):
        reader = CountingReader(n)
        consistency_proof(m, n, reader)
        assert reader.reads <= bound
    reader = CountingReader(n)
    root_hash(n, reader)
    assert reader.reads == bin(n).count("1")
