"""C2SP tlog-tiles (c2sp.org/tlog-tiles): tile paths, hash tiles and entry bundles.

A tile ``tile/<L>/<N>[.p/<W>]`` holds up to 256 consecutive hashes: hash ``i``
of tile ``(L, N)`` is the complete Merkle subtree ``(8 * L, 256 * N + i)`` of
`registry.merkle`, so tiles are served straight from the stored subtree hashes.
Entry bundles ``tile/entries/<N>[.p/<W>]`` hold the leaves of level-0 tile N,
each prefixed by its length as a big-endian uint16.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from registry.merkle import HashReader

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
MAX_ENTRY_SIZE = 0xFFFF
ENTRIES: Literal["entries"] = "entries"

TileLevel = int | Literal["entries"]

# Level: "entries" or 0..63 without leading zeros; index: 3-digit groups, all but
# the last prefixed with "x"; optional ".p/<W>" with W in 1..255, no leading zeros.
# At most 7 groups, enough for any 64-bit index.
_TILE_PATH = re.compile(
    r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/){0,6})([0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?",
    re.ASCII,
)


def tile_path(level: TileLevel, index: int, width: int | None = None) -> str:
    """Return the path tile/<L>/<N>[.p/<W>]; width None or 256 means a full tile."""
    if level != ENTRIES and (not isinstance(level, int) or not 0 <= level <= MAX_LEVEL):
        raise ValueError(f"tile level must be 0..{MAX_LEVEL} or 'entries', got {level!r}")
    if index < 0:
        raise ValueError("tile index must be non-negative")
    if width is not None and not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"tile width must be 1..{TILE_WIDTH}, got {width}")
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        groups.insert(0, f"x{index % 1000:03d}")
        index //= 1000
    path = f"tile/{level}/{'/'.join(groups)}"
    if width is not None and width < TILE_WIDTH:
        path += f".p/{width}"
    return path


def parse_tile_path(path: str) -> tuple[TileLevel, int, int | None]:
    """Parse a canonical tile path into (level, index, width or None for a full tile)."""
    match = _TILE_PATH.fullmatch(path)
    if match is None:
        raise ValueError(f"not a tile path: {path!r}")
    level_text, x_groups, last, width_text = match.groups()
    level: TileLevel = ENTRIES if level_text == ENTRIES else int(level_text)
    if isinstance(level, int) and level > MAX_LEVEL:
        raise ValueError(f"tile level above {MAX_LEVEL}: {path!r}")
    groups = [g[1:] for g in x_groups.split("/") if g] + [last]
    # One spelling per index: no leading x000 groups.
    if len(groups) > 1 and groups[0] == "000":
        raise ValueError(f"tile index has a leading zero group: {path!r}")
    index = int("".join(groups))
    width = None if width_text is None else int(width_text)
    if width is not None and width >= TILE_WIDTH:
        raise ValueError(f"partial tile width must be 1..{TILE_WIDTH - 1}: {path!r}")
    return level, index, width


def tile_width(level: TileLevel, index: int, tree_size: int) -> int:
    """Return the width of tile (level, index) in a tree of tree_size leaves, 0 if it has none."""
    merkle_level = 0 if level == ENTRIES else int(level)
    hashes_at_level = tree_size >> (TILE_HEIGHT * merkle_level)
    return max(0, min(TILE_WIDTH, hashes_at_level - index * TILE_WIDTH))


def tile_hashes(level: int, index: int, width: int, reader: HashReader) -> bytes:
    """Return the concatenated 32-byte hashes of hash tile (level, index) cut to width."""
    if not 0 <= level <= MAX_LEVEL or index < 0 or not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"bad tile level={level} index={index} width={width}")
    merkle_level = TILE_HEIGHT * level
    first = index * TILE_WIDTH
    return b"".join(reader.read_subtree_hash(merkle_level, first + i) for i in range(width))


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Return an entry bundle: each entry as a big-endian uint16 length then its bytes."""
    if len(entries) > TILE_WIDTH:
        raise ValueError(f"an entry bundle holds at most {TILE_WIDTH} entries")
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise ValueError(f"log entry of {len(entry)} bytes exceeds {MAX_ENTRY_SIZE}")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def decode_entry_bundle(data: bytes) -> list[bytes]:
    """Split an entry bundle into its entries, refusing truncated or oversized bundles."""
    entries: list[bytes] = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < 2:
            raise ValueError("entry bundle is truncated")
        size = int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        if len(data) - pos < size:
            raise ValueError("entry bundle is truncated")
        entries.append(data[pos : pos + size])
        pos += size
    if len(entries) > TILE_WIDTH:
        raise ValueError(f"an entry bundle holds at most {TILE_WIDTH} entries")
    return entries
