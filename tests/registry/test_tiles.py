from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tlog_scales.reader import TilesReader
from tlog_scales.signing import PlainEd25519Signer
from tlog_scales.writer import TilesWriter

from registry.merkle import MemoryHashStore, consistency_proof, inclusion_proof, leaf_hash, root_hash
from registry.note import parse_and_verify_checkpoint, sign_checkpoint, vkey_string
from registry.tiles import (
    ENTRIES,
    TILE_WIDTH,
    TileLevel,
    decode_entry_bundle,
    encode_entry_bundle,
    parse_tile_path,
    tile_hashes,
    tile_path,
    tile_width,
)

ORIGIN = "registry.example/log"
KEY = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)


def entry(i: int) -> bytes:
    # Varying lengths, including empty entries, exercise the length prefixes.
    return (f"entry {i} " * (i % 5)).encode()


def build(n: int) -> tuple[MemoryHashStore, list[bytes]]:
    store = MemoryHashStore()
    entries = [entry(i) for i in range(n)]
    for e in entries:
        store.append(e)
    return store, entries


def serve(store: MemoryHashStore, entries: list[bytes], size: int) -> dict[str, bytes]:
    """Every resource a tlog-tiles log of the given size serves, generated with registry.tiles."""
    files = {"checkpoint": sign_checkpoint(ORIGIN, size, root_hash(size, store), KEY).encode()}
    level = 0
    while size >> (8 * level):
        count = size >> (8 * level)
        for n in range((count + TILE_WIDTH - 1) // TILE_WIDTH):
            width = tile_width(level, n, size)
            files[tile_path(level, n, width)] = tile_hashes(level, n, width, store)
            if level == 0:
                bundle = entries[n * TILE_WIDTH : n * TILE_WIDTH + width]
                files[tile_path(ENTRIES, n, width)] = encode_entry_bundle(bundle)
        level += 1
    return files


class DictBackend:
    """A tlog_scales TilesBackend over an in-memory dict of paths."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.fetched: list[str] = []

    def get(self, *path: str) -> bytes | None:
        key = "/".join(path)
        self.fetched.append(key)
        return self.files.get(key)


@pytest.mark.parametrize(
    ("level", "index", "width", "path"),
    [
        (0, 0, None, "tile/0/000"),
        (0, 5, 3, "tile/0/005.p/3"),
        (1, 999, None, "tile/1/999"),
        (1, 1000, None, "tile/1/x001/000"),
        (3, 1234067, 8, "tile/3/x001/x234/067.p/8"),
        (63, 10**9, None, "tile/63/x001/x000/x000/000"),
        (ENTRIES, 1234067, None, "tile/entries/x001/x234/067"),
        (ENTRIES, 0, 255, "tile/entries/000.p/255"),
    ],
)
def test_tile_paths(level: TileLevel, index: int, width: int | None, path: str) -> None:
    assert tile_path(level, index, width) == path
    assert parse_tile_path(path) == (level, index, width)


def test_full_width_spelled_without_suffix() -> None:
    assert tile_path(2, 7, TILE_WIDTH) == "tile/2/007"


@pytest.mark.parametrize(
    "path",
    [
        "",
        "tile/0",
        "tile/0/",
        "tile/0/1",
        "tile/0/0001",
        "tile/00/000",
        "tile/01/000",
        "tile/64/000",
        "tile/-1/000",
        "tile/data/000",
        "tile/0/x000",
        "tile/0/001/000",
        "tile/0/x001/x000",
        "tile/0/000/x001",
        "tile/0/x000/001",
        "tile/0/xx01/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/300",
        "tile/0/000.p/07",
        "tile/0/000.p/",
        "tile/0/000.p",
        "tile/0/000.P/5",
        "tile/0/x001.p/5/000",
        "tile/0/00a",
        "tile/0/\u0661\u0662\u0663",
        "tile/0/000/",
        "/tile/0/000",
        "tile/0/000\n",
        "tile/0/../000",
        "tile/../etc/passwd",
        "tile/0/x001/../000",
        "tile/entries/../../checkpoint",
        "tile/0/./000",
        "tile\\0\\000",
        "tile/0//000",
        "tile/0/000 ",
        "tile/0/ 000",
        "tile/0/+00",
        "tile/0/x001/x002/x003/x004/x005/x006/x007/000",
    ],
)
def test_malformed_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError):
        parse_tile_path(path)


@pytest.mark.parametrize(
    ("level", "index", "width"),
    [(0, -1, None), (64, 0, None), (-1, 0, None), ("data", 0, None), (0, 0, 0), (0, 0, 257)],
)
def test_tile_path_refuses_bad_coordinates(level: int | str, index: int, width: int | None) -> None:
    with pytest.raises(ValueError):
        tile_path(level, index, width)  # type: ignore[arg-type]


def test_tile_width() -> None:
    # The spec's example: a tree of 70,000 leaves.
    assert [tile_width(0, n, 70_000) for n in (0, 272, 273, 274)] == [256, 256, 112, 0]
    assert [tile_width(1, n, 70_000) for n in (0, 1, 2)] == [256, 17, 0]
    assert [tile_width(2, n, 70_000) for n in (0, 1)] == [1, 0]
    assert tile_width(3, 0, 70_000) == 0
    assert tile_width(ENTRIES, 273, 70_000) == 112
    assert tile_width(1, 0, 256) == 1


def test_entry_bundles() -> None:
    entries = [b"", b"a", b"\x00" * 300, b"x" * 0xFFFF]
    data = encode_entry_bundle(entries)
    assert data[:5] == b"\x00\x00\x00\x01a"
    assert decode_entry_bundle(data) == entries
    with pytest.raises(ValueError):
        decode_entry_bundle(data[:-1])
    with pytest.raises(ValueError):
        decode_entry_bundle(b"\x00")
    with pytest.raises(ValueError):
        encode_entry_bundle([b"x" * 0x10000])
    with pytest.raises(ValueError):
        encode_entry_bundle([b""] * 257)


def test_tile_hashes_are_subtree_hashes() -> None:
    store, entries = build(600)
    tile = tile_hashes(0, 1, 10, store)
    assert tile == b"".join(leaf_hash(e) for e in entries[256:266])
    level1 = tile_hashes(1, 0, 2, store)
    assert level1[:32] == root_hash(256, store)
    with pytest.raises(KeyError):
        tile_hashes(1, 0, 3, store)  # the third level-1 hash needs 768 leaves
    with pytest.raises(ValueError):
        tile_hashes(0, 0, 0, store)


@pytest.mark.parametrize("size", [1, 2, 7, 255, 256, 257, 511, 512, 1000, 65_535, 65_536, 65_537, 70_000])
def test_tlog_scales_reads_our_tiles(size: int) -> None:
    store, entries = build(size)
    files = serve(store, entries, size)
    backend = DictBackend(files)
    reader = TilesReader(backend)
    checkpoint = reader.get_checkpoint()
    assert checkpoint.size == size
    checkpoint.verify(PlainEd25519Signer(ORIGIN, KEY).vkey)
    # tlog_scales recomputes the root from our tiles alone.
    assert reader.calculate_root_hash() == checkpoint.root_hash == root_hash(size, store)
    for i in {0, size // 2, size - 1, max(0, size - 300)}:
        assert reader.get_entry(i) == entries[i]
        theirs = reader.get_inclusion_proof(i, size)
        assert theirs.node_hashes == inclusion_proof(i, size, store)
        theirs.check(leaf_hash(entries[i]), checkpoint.root_hash)
    for old in {1, size // 3, size - 1}:
        if 0 < old < size:
            assert reader.get_consistency_proof(old, size).node_hashes == consistency_proof(old, size, store)
    # Every fetched resource is one we serve: no reliance on missing or extra tiles.
    assert set(backend.fetched) <= set(files)


def test_tiles_identical_to_tlog_scales_writer(tmp_path: Path) -> None:
    root = tmp_path / "log"
    writer = TilesWriter.create(root, ORIGIN)
    signer = PlainEd25519Signer(ORIGIN, KEY)
    vkey = vkey_string(ORIGIN, KEY.public_key())
    store = MemoryHashStore()
    entries: list[bytes] = []
    for batch in [1, 2, 253, 1, 255, 256, 1000, 300, 63_000, 1_000, 300, 4_632]:
        for _ in range(batch):
            entries.append(entry(len(entries)))
            writer.add_leaf(entries[-1])
            store.append(entries[-1])
        writer.commit([signer])
        # Each checkpoint tlog_scales signs carries our root and verifies with our parser.
        checkpoint = parse_and_verify_checkpoint((root / "checkpoint").read_text(), vkey)
        assert (checkpoint.size, checkpoint.root_hash) == (len(entries), root_hash(len(entries), store))
        expected_note = sign_checkpoint(ORIGIN, checkpoint.size, checkpoint.root_hash, KEY)
        assert (root / "checkpoint").read_text() == expected_note
    size = len(entries)
    assert size == 71_000

    written = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.name != "checkpoint"
    }
    assert len(written) > 300
    for path, data in written.items():
        level, index, width = parse_tile_path(path)
        assert tile_path(level, index, width) == path
        w = width or TILE_WIDTH
        if level == ENTRIES:
            assert data == encode_entry_bundle(entries[index * TILE_WIDTH : index * TILE_WIDTH + w]), path
        else:
            assert isinstance(level, int)
            assert data == tile_hashes(level, index, w, store), path

    ours = serve(store, entries, size)
    del ours["checkpoint"]
    for path, data in ours.items():
        assert written.get(path) == data, path
