"""The documents a search finds: its filters and words applied to the mirror's arrays."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from functools import reduce

import numpy as np
from sqlalchemy.engine import Connection

from catalog.search.formats import normalise_format
from catalog.search.index import THEME_BIT
from catalog.search.mirror import (
    NO_YEAR,
    Mirror,
    flags_of,
)
from catalog.search.query import SearchQuery
from registry.enums import Openness


def chosen(m: Mirror, connection: Connection, query: SearchQuery, words: Sequence[int]) -> np.ndarray:
    """The documents the search finds (``words``: each query word's documents), as a boolean array."""
    nothing = np.zeros(m.size, dtype=bool)
    state = m.state.index.get(query.state)
    if state is None:
        return nothing
    chosen = m["present"] & (m["state"] == state)
    viewer = query.viewer
    own = m.entity.index.get(viewer.entity_id) if viewer.entity_id else None
    if query.state != "published" and not viewer.staff:
        if own is None:
            return nothing
        chosen &= m["entity"] == own
    closed = m.access.index.get(Openness.not_open.value)
    if not viewer.staff and closed is not None:
        hidden = m["access"] == closed
        if own is not None:
            hidden &= m["entity"] != own
        chosen &= ~hidden
    if query.themes:
        themes = 0
        for theme in query.themes:
            themes |= THEME_BIT[theme]
        chosen &= m.themes.table(lambda mask: bool(mask & themes))[m["themes"]]
    if query.formats:
        known = m.format_bits(connection)
        wanted = {normalise_format(f) for f in query.formats}
        formats = 0
        for name in wanted:
            if name in known:
                formats |= 1 << known[name]
        if not formats:
            return nothing
        chosen &= m.formats.table(lambda mask: bool(mask & formats))[m["formats"]]
    for column, codes, values in (
        ("entity", m.entity, query.publishers),
        ("access", m.access, query.access),
        ("licence", m.licence, query.licences),
    ):
        if values:
            chosen &= np.isin(m[column], codes.known(values))
    for tag in dict.fromkeys(query.tags):
        chosen &= m.with_tag(connection, tag)
    if query.year_from is not None:
        chosen &= (m["year_end"] != NO_YEAR) & (m["year_end"] >= query.year_from)
    if query.year_to is not None:
        chosen &= (m["year_start"] != NO_YEAR) & (m["year_start"] <= query.year_to)
    if query.registered is not None:
        chosen &= m["registered"] == query.registered
    if words:
        chosen &= flags_of(reduce(operator.and_, words), m.size)
    return np.asarray(chosen, dtype=bool)
