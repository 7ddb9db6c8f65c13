# ruff: noqa: S608 - SQL here is assembled from fixed fragments; every value travels as a bound parameter.
"""One page of the chosen documents in a search's order: relevance, newest or title, after a cursor."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from functools import reduce
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection

from catalog.search.mirror import (
    Mirror,
    WordSets,
    flags_of,
)
from catalog.search.words import Matched
from storage.statements import chunked, expanding


def _largest(keys: np.ndarray, need: int) -> np.ndarray:
    """The positions of the largest keys, largest first (keys are distinct)."""
    cut = len(keys) - need
    positions = np.argpartition(keys, cut)[cut:] if cut > 0 else np.arange(len(keys))
    return positions[np.argsort(keys[positions])[::-1]]


def _field_score(size: int, words: Sequence[WordSets], docs: np.ndarray) -> np.ndarray:
    """8 if every word is in the title, +4 if some word is, +2 in the keywords, +1 in the description."""
    every_title = reduce(operator.and_, (w[0] for w in words))
    some = [reduce(operator.or_, (w[field] for w in words)) for field in range(3)]
    score: np.ndarray = (
        flags_of(every_title, size)[docs].astype(np.int64) * 8
        + flags_of(some[0], size)[docs] * 4
        + flags_of(some[1], size)[docs] * 2
        + flags_of(some[2], size)[docs]
    )
    return score


def by_relevance(
    m: Mirror, words: Sequence[Matched], docs: np.ndarray, cursor: tuple[Any, int] | None, need: int
) -> list[tuple[int, Any]]:
    """(document, score) rows, best first; equal scores newest document first.

    The score counts the fields once for the words as found (exactly or through their parts) and once more for
    the words found exactly, so an exact match outranks a match of its parts or stem in the same field.
    """
    score = _field_score(m.size, [w.loose for w in words], docs) + _field_score(m.size, [w.exact for w in words], docs)
    # One distinct integer per row: the score above the document number.
    keys = (score << 32) | docs
    if cursor is not None:
        keys = keys[keys < ((int(cursor[0]) << 32) | cursor[1])]
    return [(int(key) & 0xFFFFFFFF, int(key) >> 32) for key in keys[_largest(keys, need)]]


def by_newest(m: Mirror, docs: np.ndarray, cursor: tuple[Any, int] | None, need: int) -> list[tuple[int, Any]]:
    """(document, modified key) rows, newest first; equal times newest document first."""
    modified = m["modified"][docs]
    if cursor is not None:
        after = (modified < cursor[0]) | ((modified == cursor[0]) & (docs < cursor[1]))
        modified, docs = modified[after], docs[after]
    if len(modified) > need:
        threshold = np.partition(modified, len(modified) - need)[len(modified) - need]
        within = modified >= threshold
        modified, docs = modified[within], docs[within]
    order = np.lexsort((docs, modified))[::-1][:need]
    return [(int(docs[i]), int(modified[i])) for i in order]


# Up to this many results, title order sorts their keys; beyond, it walks the title index and keeps the chosen.
TITLE_FETCH = 5000


def by_title(
    connection: Connection,
    state: str,
    chosen: np.ndarray,
    docs: np.ndarray,
    cursor: tuple[Any, int] | None,
    need: int,
) -> list[tuple[int, Any]]:
    """(document, title key) rows in title order (by code point), equal titles oldest document first."""
    if len(docs) <= TITLE_FETCH:
        statement = expanding("SELECT doc, title_key FROM dataset_search WHERE doc IN :docs", "docs")
        rows = [
            (str(key), int(doc))
            for chunk in chunked([int(d) for d in docs], 1000)
            for doc, key in connection.execute(statement, {"docs": chunk})
        ]
        ordered = sorted(row for row in rows if cursor is None or row > cursor)
        return [(doc, key) for key, doc in ordered[:need]]
    title = 'title_key COLLATE "C"' if connection.dialect.name == "postgresql" else "title_key"
    found: list[tuple[int, Any]] = []
    batch = 256
    while len(found) < need:
        after = "" if cursor is None else f" AND ({title}, doc) > (:k, :d)"
        sql = f"SELECT doc, title_key FROM dataset_search WHERE state = :s{after} ORDER BY {title}, doc LIMIT :n"
        params: dict[str, Any] = {"s": state, "n": batch}
        if cursor is not None:
            params |= {"k": cursor[0], "d": cursor[1]}
        walked = [(int(doc), str(key)) for doc, key in connection.execute(text(sql), params)]
        found += [(doc, key) for doc, key in walked if doc < len(chosen) and chosen[doc]]
        if len(walked) < batch:
            break
        cursor = (walked[-1][1], walked[-1][0])
        batch = min(batch * 4, 20_000)
    return found[:need]
