"""A query word's documents: those holding it exactly, and those holding every one of its parts.

Each part is a word of its own in the mirror's cache (``Mirror.word``), so a part shared by many query words
(``公交`` in ``公交车`` and ``公交站点``) is asked of the full-text index once.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import reduce

from sqlalchemy.engine import Connection

from catalog.search.mirror import Mirror, WordSets
from catalog.search.tokens import Word


@dataclass(frozen=True)
class Matched:
    """A query word's documents: exactly per field, loosely per field (all its parts in that field), anywhere."""

    exact: WordSets
    loose: WordSets
    anywhere: int


def matched(m: Mirror, connection: Connection, word: Word) -> Matched:
    """The documents a query word finds, exactly or through its parts."""
    exact = m.word(connection, word.exact)
    anywhere = exact[0] | exact[1] | exact[2]
    if not word.parts:
        return Matched(exact, exact, anywhere)
    parts = [m.word(connection, part) for part in word.parts]
    title, keywords, description = (
        exact[field] | reduce(operator.and_, (part[field] for part in parts)) for field in range(3)
    )
    every_part = reduce(operator.and_, (part[0] | part[1] | part[2] for part in parts))
    return Matched(exact, (title, keywords, description), anywhere | every_part)
