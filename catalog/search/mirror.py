"""Each process's mirror of the search index: filter and facet columns as arrays, query words as document bitsets.

Why it exists: a broad query matches most of the catalog, and counting, faceting and ranking a million matches
row by row in SQL takes seconds; over arrays it takes milliseconds. The database stays the source of truth.
Every index write moves the catalog's generation on and stamps the rows it wrote with it (``seq``), so a mirror
catches up by reading only the rows stamped after the generation it holds. Which documents contain a query word
(per field) is asked of the full-text index the first time any process searches the word (then shared through the
database, ``catalog.search.shared_words``), kept as a bitset, and patched from the same changed rows afterwards, so
that no answer ever differs from what the database holds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar
from weakref import WeakKeyDictionary

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import Pool

from catalog.search.formats import known_formats
from storage.statements import chunked, driver_rows, expanding

FIELDS = ("title", "keywords", "description")
# A word's documents per field: title, keywords, description.
WordSets = tuple[int, int, int]
# The tokens of a document per field, as the full-text index holds them.
FieldTokens = tuple[Sequence[str], Sequence[str], Sequence[str]]

# Changed documents patched into the cached word sets one by one; after a larger change (a bulk import) the
# word sets are dropped and asked of the full-text index again.
PATCH_LIMIT = 500
# Bytes of word bitsets a process keeps (a bitset costs one bit per document number).
WORD_SET_BUDGET = 96 << 20
# Search rows read per round trip while building or catching up.
LOAD_CHUNK = 50_000
# Years are small integers; 0 stands for a missing year (no dataset covers year 0).
NO_YEAR = 0

_ROWS = (
    "SELECT doc, entity_id, state, access, registered, licence, theme_bits, format_bits, year_start, year_end, "
    "modified_key FROM dataset_search WHERE seq > ?"
)


def bitset(docs: np.ndarray) -> int:
    """A set of document numbers as a Python integer whose bit n says whether document n is in it."""
    if not len(docs):
        return 0
    flags = np.zeros(int(docs.max()) + 1, dtype=bool)
    flags[docs] = True
    return int.from_bytes(np.packbits(flags, bitorder="little").tobytes(), "little")


def flags_of(bits: int, size: int) -> np.ndarray:
    """A bitset as a boolean array of the given length (members beyond it are left out)."""
    length = max(size, bits.bit_length())
    raw = np.frombuffer(bits.to_bytes((length + 7) // 8, "little"), dtype=np.uint8)
    return np.unpackbits(raw, count=length, bitorder="little").view(bool)[:size]


class Codes:
    """A dictionary encoding: each distinct value gets the next small integer."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.index: dict[Any, int] = {}

    def code(self, value: Any) -> int:
        """The value's code, allocated on first sight."""
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.values)
            self.values.append(value)
        return found

    def encode(self, values: Sequence[Any]) -> np.ndarray:
        """Codes of many values (new values are allocated codes in the order they first occur)."""
        for value in dict.fromkeys(values).keys() - self.index.keys():
            self.code(value)
        return np.fromiter(map(self.index.__getitem__, values), dtype=np.int64, count=len(values))

    def known(self, values: Iterable[Any]) -> list[int]:
        """Codes of the values seen so far; unknown values have none (nothing holds them)."""
        return [self.index[v] for v in values if v in self.index]

    def table(self, test: Callable[[Any], bool]) -> np.ndarray:
        """A lookup array: for each code, whether its value passes the test."""
        return np.array([test(v) for v in self.values], dtype=bool)


def item_matches(tokens: tuple[str, ...], prefix: bool, field: Sequence[str]) -> bool:
    """Whether a query word occurs in a field's tokens, exactly as the full-text engines decide it."""
    if prefix:
        return any(token.startswith(tokens[0]) for token in field)
    width = len(tokens)
    if width == 1:
        return tokens[0] in field
    first, wanted = tokens[0], list(tokens)
    return any(token == first and list(field[i : i + width]) == wanted for i, token in enumerate(field))


def patched(
    sets: WordSets,
    rewritten: int,
    tokens: dict[int, FieldTokens],
    holds: Callable[[FieldTokens], tuple[bool, bool, bool]],
) -> WordSets:
    """A word's sets with the rewritten documents (a bitset) taken out, and put back in each field whose tokens
    (as the index now holds them) the word matches."""
    present: list[list[int]] = [[], [], []]
    for doc, fields in tokens.items():
        for field, found in enumerate(holds(fields)):
            if found:
                present[field].append(doc)
    title, keywords, description = (
        (bits & ~rewritten) | bitset(np.array(members, dtype=np.int64))
        for bits, members in zip(sets, present, strict=True)
    )
    return title, keywords, description


@dataclass(frozen=True)
class Footprint:
    """How many datasets a mirror holds, and in how many bytes (the code tables' small dictionaries aside)."""

    datasets: int
    bytes: int


class Mirror:
    """The arrays of one database's search rows, indexed by document number, and the word sets asked so far."""

    def __init__(
        self,
        load_word: Callable[[Connection, Hashable, int | None], WordSets],
        word_matches: Callable[[Hashable, FieldTokens], tuple[bool, bool, bool]],
        tokens_of: Callable[[Connection, list[int]], dict[int, FieldTokens]],
    ) -> None:
        self._load_word = load_word
        self._word_matches = word_matches
        self._tokens_of = tokens_of
        self.lock = threading.RLock()
        self.generation: int | None = None
        self._keeping = True
        self.size = 0
        self.entity, self.state, self.access = Codes(), Codes(), Codes()
        self.licence, self.themes, self.formats = Codes(), Codes(), Codes()
        self.columns: dict[str, np.ndarray] = {}
        self._allocate(0)
        self.words: OrderedDict[Hashable, WordSets] = OrderedDict()
        self.word_bytes = 0
        self.tag_docs: np.ndarray | None = None
        self.tag_codes = np.zeros(0, dtype=np.int32)
        self.tags = Codes()
        self._format_bits: dict[str, int] | None = None

    # ------------------------------------------------------------ columns

    # The columns and their types; years as int32 so any year a query names compares without overflow.
    _DTYPES: ClassVar[dict[str, Any]] = {
        "present": bool,
        "entity": np.int32,
        "state": np.int16,
        "access": np.int16,
        "registered": bool,
        "licence": np.int32,
        "themes": np.int32,
        "formats": np.int32,
        "year_start": np.int32,
        "year_end": np.int32,
        "modified": np.int64,
    }

    def _allocate(self, size: int) -> None:
        """Grow every column to hold document numbers below size (doubling, so growth stays cheap)."""
        if size <= self.size and self.columns:
            return
        capacity = max(size, self.size * 2, 1024)
        for name, dtype in self._DTYPES.items():
            grown = np.zeros(capacity, dtype=dtype)
            if name in self.columns:
                grown[: self.size] = self.columns[name][: self.size]
            self.columns[name] = grown
        self.size = capacity

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def footprint(self) -> Footprint:
        """The datasets mirrored and the bytes the mirror holds for them: its columns, tags and kept word sets."""
        arrays = [*self.columns.values(), self.tag_codes]
        if self.tag_docs is not None:
            arrays.append(self.tag_docs)
        held = sum(array.nbytes for array in arrays) + self.word_bytes
        return Footprint(datasets=int(np.count_nonzero(self.columns["present"])), bytes=held)

    def _apply(self, rows: Sequence[Sequence[Any]]) -> np.ndarray:
        """Write search rows into the columns; returns their document numbers."""
        if not rows:
            return np.zeros(0, dtype=np.int64)
        doc, entity, state, access, registered, licence, themes, formats, start, end, modified = zip(*rows, strict=True)
        docs = np.array(doc, dtype=np.int64)
        self._allocate(int(docs.max()) + 1)
        c = self.columns
        c["present"][docs] = True
        c["entity"][docs] = self.entity.encode(entity)
        c["state"][docs] = self.state.encode(state)
        c["access"][docs] = self.access.encode(access)
        c["registered"][docs] = np.array(registered, dtype=bool)
        c["licence"][docs] = self.licence.encode(licence)
        c["themes"][docs] = self.themes.encode(themes)
        c["formats"][docs] = self.formats.encode(formats)
        c["year_start"][docs] = [NO_YEAR if v is None else v for v in start]
        c["year_end"][docs] = [NO_YEAR if v is None else v for v in end]
        c["modified"][docs] = modified
        return docs

    # ------------------------------------------------------------ catching up

    @contextmanager
    def reading(self, connection: Connection, generation: int) -> Iterator[Mirror]:
        """The mirror brought up to the given generation, held for one search."""
        with self.lock:
            self._catch_up(connection, generation)
            # A reader whose transaction began before the mirror's generation sees an older index than the
            # mirror holds: what it loads is used for its own answer but never kept.
            self._keeping = self.generation == generation
            try:
                yield self
            finally:
                self._keeping = True

    def _catch_up(self, connection: Connection, generation: int) -> None:
        # A mirror already past the reader's generation (another request caught it up) is used as it is.
        if self.generation is not None and generation <= self.generation:
            return
        after = -1 if self.generation is None else self.generation
        chunks = [self._apply(rows) for rows in driver_rows(connection, _ROWS, (after,), LOAD_CHUNK)]
        changed = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
        if after >= 0 and len(changed):
            self._patch(connection, changed)
        self.generation = generation
        # Formats are numbered only by index writes, which move the generation on: read them again.
        self._format_bits = None

    def _patch(self, connection: Connection, changed: np.ndarray) -> None:
        """Bring word sets and tags up to date for rewritten documents, or drop them when too many changed."""
        if len(changed) > PATCH_LIMIT:
            self.words.clear()
            self.word_bytes = 0
            self.tag_docs = None
            return
        docs = [int(d) for d in changed]
        if self.words:
            tokens = self._tokens_of(connection, docs)
            rewritten = bitset(changed)
            for key, sets in list(self.words.items()):
                self.words[key] = patched(sets, rewritten, tokens, partial(self._word_matches, key))
            self.word_bytes = sum(_bytes_of(sets) for sets in self.words.values())
        if self.tag_docs is not None:
            keep = ~np.isin(self.tag_docs, changed)
            rows = self._tag_rows(connection, docs)
            self.tag_docs = np.concatenate([self.tag_docs[keep], np.array([r[0] for r in rows], dtype=np.int64)])
            added = self.tags.encode([r[1] for r in rows]).astype(np.int32)
            self.tag_codes = np.concatenate([self.tag_codes[keep], added])

    # ------------------------------------------------------------ words

    def word(self, connection: Connection, key: Hashable) -> WordSets:
        """A query word's documents per field, from the full-text index the first time it is asked."""
        found = self.words.get(key)
        if found is not None:
            self.words.move_to_end(key)
            return found
        # The generation the sets are read for, when they will be kept; a reader older than the mirror gets its own.
        found = self._load_word(connection, key, self.generation if self._keeping else None)
        if not self._keeping:
            return found
        self.words[key] = found
        self.word_bytes += _bytes_of(found)
        while self.word_bytes > WORD_SET_BUDGET and len(self.words) > 1:
            _, dropped = self.words.popitem(last=False)
            self.word_bytes -= _bytes_of(dropped)
        return found

    # ------------------------------------------------------------ formats

    def format_bits(self, connection: Connection) -> dict[str, int]:
        """Every format's bit, as the index writers numbered them, read once per generation."""
        if self._format_bits is not None:
            return self._format_bits
        found = known_formats(connection)
        if self._keeping:
            self._format_bits = found
        return found

    # ------------------------------------------------------------ tags

    def _tag_rows(self, connection: Connection, docs: list[int] | None) -> list[tuple[int, str]]:
        if docs is None:
            return [(int(d), str(t)) for d, t in connection.execute(text("SELECT doc, tag FROM dataset_tag"))]
        statement = expanding("SELECT doc, tag FROM dataset_tag WHERE doc IN :docs", "docs")
        return [
            (int(d), str(t)) for chunk in chunked(docs, 500) for d, t in connection.execute(statement, {"docs": chunk})
        ]

    def tag_pairs(self, connection: Connection) -> tuple[np.ndarray, np.ndarray]:
        """Every (document, tag code) pair, loaded on first use."""
        if self.tag_docs is not None:
            return self.tag_docs, self.tag_codes
        rows = self._tag_rows(connection, None)
        docs = np.array([r[0] for r in rows], dtype=np.int64)
        codes = self.tags.encode([r[1] for r in rows]).astype(np.int32)
        if self._keeping:
            self.tag_docs, self.tag_codes = docs, codes
        return docs, codes

    def with_tag(self, connection: Connection, tag: str) -> np.ndarray:
        """Which documents carry a tag, as a boolean array over the columns."""
        docs, codes = self.tag_pairs(connection)
        chosen = np.zeros(self.size, dtype=bool)
        code = self.tags.index.get(tag)
        if code is not None:
            members = docs[codes == code]
            chosen[members[members < self.size]] = True
        return chosen


def _bytes_of(sets: WordSets) -> int:
    return sum((bits.bit_length() + 7) // 8 for bits in sets)


def mirror_of(connection: Connection, factory: Callable[[], Mirror]) -> Mirror:
    """The mirror of the connection's database, one per connection pool (it lives and dies with the engine's pool)."""
    pool = connection.engine.pool
    mirror = _MIRRORS.get(pool)
    if mirror is None:
        with _CREATING:
            mirror = _MIRRORS.setdefault(pool, factory())
    return mirror


def footprint_of(engine: Engine) -> Footprint | None:
    """What the engine's mirror in this process holds, or None when no search has built one."""
    mirror = _MIRRORS.get(engine.pool)
    if mirror is None:
        return None
    with mirror.lock:
        return mirror.footprint()


def drop_mirror(engine: Engine) -> None:
    """Forget an engine's mirror: the next search builds it again from the database."""
    _MIRRORS.pop(engine.pool, None)


# Keyed by pool rather than engine: every option engine of an engine (readers, writers) shares its pool.
_MIRRORS: WeakKeyDictionary[Pool, Mirror] = WeakKeyDictionary()
_CREATING = threading.Lock()
