"""Facet counts over the chosen documents: most frequent values first, exact."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from sqlalchemy.engine import Connection

from catalog.search.formats import OVERFLOW_BIT, OVERFLOW_FORMAT
from catalog.search.index import THEMES
from catalog.search.mirror import (
    NO_YEAR,
    Codes,
    Mirror,
)
from catalog.search.query import FacetValue
from registry.enums import THEME_LABELS_ZH, Theme
from storage.statements import expanding

# Built once: a statement built anew costs SQLAlchemy its cache key on every search.
_PUBLISHER_NAMES = expanding("SELECT id, name FROM entity WHERE id IN :ids", "ids")


def _counted(codes: Codes, column: np.ndarray) -> Counter[Any]:
    """How many times each value occurs in a column of codes."""
    counts = np.bincount(column, minlength=len(codes.values))
    return Counter({codes.values[code]: int(counts[code]) for code in np.flatnonzero(counts)})


def _top(counter: Counter[str], limit: int) -> list[tuple[str, int]]:
    # Most frequent first; equal counts by value, compared by code point.
    ordered = sorted(((str(k), n) for k, n in counter.items() if n > 0), key=lambda kv: (-kv[1], kv[0]))
    return ordered[:limit]


def _expand_bits(counter: Counter[Any], names: dict[int, str]) -> Counter[str]:
    expanded: Counter[str] = Counter()
    for mask, n in counter.items():
        for bit, name in names.items():
            if int(mask) & (1 << bit):
                expanded[name] += n
    return expanded


def facet(
    m: Mirror, connection: Connection, name: str, docs: np.ndarray, chosen: np.ndarray, limit: int
) -> list[FacetValue]:
    """One facet's most frequent values among the chosen documents."""
    if name == "theme":
        counted = _expand_bits(_counted(m.themes, m["themes"][docs]), dict(enumerate(t.value for t in THEMES)))
        return [FacetValue(k, n, THEME_LABELS_ZH[Theme(k)]) for k, n in _top(counted, limit)]
    if name == "format":
        names: dict[int, str] = {}
        for format_name, bit in sorted(m.format_bits(connection).items()):
            names.setdefault(bit, OVERFLOW_FORMAT if bit == OVERFLOW_BIT else format_name)
        return [FacetValue(k, n) for k, n in _top(_expand_bits(_counted(m.formats, m["formats"][docs]), names), limit)]
    if name == "year":
        return [FacetValue(k, n) for k, n in _top(_years(m["year_start"][docs], m["year_end"][docs]), limit)]
    if name == "tag":
        tag_docs, tag_codes = m.tag_pairs(connection)
        inside = np.zeros(len(tag_docs), dtype=bool)
        known = tag_docs < len(chosen)
        inside[known] = chosen[tag_docs[known]]
        return [FacetValue(k, n) for k, n in _top(_counted(m.tags, tag_codes[inside]), limit)]
    column, codes = {"publisher": ("entity", m.entity), "access": ("access", m.access)}.get(
        name, ("licence", m.licence)
    )
    top = _top(Counter({k: n for k, n in _counted(codes, m[column][docs]).items() if k is not None}), limit)
    if name == "publisher" and top:
        labels: dict[str, str] = dict(connection.execute(_PUBLISHER_NAMES, {"ids": [k for k, _ in top]}).all())
        return [FacetValue(k, n, labels.get(k)) for k, n in top]
    return [FacetValue(k, n) for k, n in top]


def _years(starts: np.ndarray, ends: np.ndarray) -> Counter[str]:
    """How many documents cover each year: covering(y) = #(start <= y) - #(end < y)."""
    begun = np.bincount(starts[starts != NO_YEAR])
    finished = np.bincount(ends[ends != NO_YEAR])
    years: Counter[str] = Counter()
    if not begun.any():
        return years
    first = int(np.flatnonzero(begun)[0])
    last = max(len(begun), len(finished)) - 1
    covering = 0
    for year in range(first, last + 1):
        covering += int(begun[year]) if year < len(begun) else 0
        years[str(year)] = covering
        covering -= int(finished[year]) if year < len(finished) else 0
    return years
