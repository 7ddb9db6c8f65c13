"""Word sets shared by every process of a catalog, through the database.

Asking the full-text index which documents hold a common word costs hundreds of milliseconds at a million datasets
(a second and more on PostgreSQL, which re-reads every candidate's vector). Each process used to pay that for each
word, and again after every restart. Now the first process to ask stores the answer, compressed and stamped with
the index generation it was read at; the others read it back in a millisecond, patched forward from the documents
rewritten since (``seq``), or ask the index again when too many were. Storing runs in a background thread of
its own, so that no search waits for the database's write lock; a word set that could not be stored is only a
missed saving.
"""

from __future__ import annotations

import logging
import queue
import threading
import zlib
from collections.abc import Callable

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from catalog.search.mirror import PATCH_LIMIT, FieldTokens, WordSets, bitset, patched
from storage.db import session_scope

log = logging.getLogger("pdr.search")

# Words stored at most; the ones stored at the oldest generations go first.
MAX_WORDS = 20_000
# Stores waiting for the background thread at most; a search finding the queue full does not wait.
MAX_PENDING = 256
# How many stores pass between two prunings of the table down to MAX_WORDS.
PRUNE_EVERY = 64
# Longer query words are not stored (the column's limit).
MAX_WORD_CHARS = 400

_READ = text("SELECT generation, title, keywords, description FROM search_word_set WHERE word = :word")
# No ORDER BY: the range of the seq index is read only until the limit, however many documents a bulk import wrote.
_CHANGED = text("SELECT doc FROM dataset_search WHERE seq > :after LIMIT :limit")
# A row is only ever replaced by one read at a later generation.
_STORE = text(
    "INSERT INTO search_word_set (word, generation, title, keywords, description) "
    "VALUES (:word, :generation, :title, :keywords, :description) "
    "ON CONFLICT (word) DO UPDATE SET generation = excluded.generation, title = excluded.title, "
    "keywords = excluded.keywords, description = excluded.description "
    "WHERE search_word_set.generation < excluded.generation"
)
_PRUNE = text(
    "DELETE FROM search_word_set WHERE word NOT IN "
    "(SELECT word FROM search_word_set ORDER BY generation DESC, word LIMIT :keep)"
)


def _packed(bits: int) -> bytes:
    return zlib.compress(bits.to_bytes((bits.bit_length() + 7) // 8, "little"), 1)


def _unpacked(data: bytes) -> int:
    return int.from_bytes(zlib.decompress(data), "little")


def read(
    connection: Connection,
    word: str,
    generation: int,
    tokens_of: Callable[[Connection, list[int]], dict[int, FieldTokens]],
    holds: Callable[[FieldTokens], tuple[bool, bool, bool]],
) -> tuple[WordSets, bool] | None:
    """The stored sets of a word brought to `generation`, and whether they were patched on the way; None when
    none are stored, they were read at a later generation, or too many documents changed since."""
    row = connection.execute(_READ, {"word": word}).first()
    if row is None or row.generation > generation:
        return None
    sets: WordSets = (_unpacked(row.title), _unpacked(row.keywords), _unpacked(row.description))
    if row.generation == generation:
        return sets, False
    changed = [
        int(doc) for doc in connection.execute(_CHANGED, {"after": row.generation, "limit": PATCH_LIMIT + 1}).scalars()
    ]
    if len(changed) > PATCH_LIMIT:
        return None
    rewritten = bitset(np.array(changed, dtype=np.int64))
    return patched(sets, rewritten, tokens_of(connection, changed), holds), True


def keep(engine: Engine, word: str, generation: int, sets: WordSets) -> None:
    """Store a word's sets for the other processes, in the background; dropped when too many stores wait."""
    if len(word) > MAX_WORD_CHARS:
        return
    try:
        _STORES.put_nowait((engine, word, generation, sets))
    except queue.Full:
        return
    _start_storing()


def wait_stored() -> None:
    """Block until every store handed to the background thread so far is done (for tests and benchmarks)."""
    _STORES.join()


_STORES: queue.Queue[tuple[Engine, str, int, WordSets]] = queue.Queue(MAX_PENDING)
_STARTED = threading.Lock()
_storing: threading.Thread | None = None


def _start_storing() -> None:
    global _storing
    with _STARTED:
        if _storing is None or not _storing.is_alive():
            _storing = threading.Thread(target=_store_forever, name="pdr-word-sets", daemon=True)
            _storing.start()


def _store_forever() -> None:
    """The background thread: store each word set handed over, pruning the table now and then."""
    stored = 0
    while True:
        engine, word, generation, sets = _STORES.get()
        try:
            _store(engine, word, generation, sets, prune=stored % PRUNE_EVERY == PRUNE_EVERY - 1)
            stored += 1
        except Exception as exc:  # a cache: a store that fails is a saving missed, never an error
            log.info("word set not stored: %s", type(exc).__name__)
        finally:
            _STORES.task_done()


def _store(engine: Engine, word: str, generation: int, sets: WordSets, *, prune: bool) -> None:
    title, keywords, description = (_packed(bits) for bits in sets)
    values = {"word": word, "generation": generation, "title": title, "keywords": keywords, "description": description}
    with session_scope(engine) as session:
        connection = session.connection()
        connection.execute(_STORE, values)
        if prune:
            connection.execute(_PRUNE, {"keep": MAX_WORDS})
        session.commit()
