"""The search use case: a validated query evaluated over the process's mirror of the index.

All words must match (AND), each exactly or through its parts (``catalog.search.words``). Relevance is an integer:
8 if every word is in the title, +4 if some word is in the title, +2 in the keywords, +1 in the description,
counted once for the words however found and once more for the words found exactly; ties are broken by document
number, newest first, so the order is total and SQLite and PostgreSQL give identical pages. Filters, exact counts,
facets and the ordering of a million matches are a few array operations over the mirror
(``catalog.search.mirror``); the database remains the source of truth and the mirror follows its generations.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy.engine import Connection
from sqlmodel import Session

from catalog.search.facets import facet
from catalog.search.filters import chosen
from catalog.search.index import generation
from catalog.search.mirror import mirror_of
from catalog.search.ordering import by_newest, by_relevance, by_title
from catalog.search.query import Hits, SearchQuery, SearchResult, check_query, invalid
from catalog.search.sources import new_mirror
from catalog.search.tokens import parse_query
from catalog.search.words import matched
from storage.pagination import decode_cursor, encode_cursor
from storage.statements import expanding


def search(session: Session, query: SearchQuery) -> SearchResult:
    """Run a search: one page of dataset ids, the exact count and the requested facets."""
    hits = find(session, query)
    # A dataset the mirror knows but this transaction cannot see yet (it began before the write) is left out.
    known = _dataset_ids(session.connection(), hits.docs)
    kept = [i for i, doc in enumerate(hits.docs) if doc in known]
    return SearchResult(
        ids=[known[hits.docs[i]] for i in kept],
        count=hits.count,
        next_cursor=hits.next_cursor,
        facets=hits.facets,
        scores=[hits.scores[i] for i in kept] if hits.scores else [],
    )


def find(session: Session, query: SearchQuery, at_generation: int | None = None) -> Hits:
    """Run a search: one page of document numbers, the exact count and the requested facets; at the index generation
    given when the caller has read it in this transaction."""
    check_query(query)
    connection = session.connection()
    items = parse_query(query.q)
    sort = query.sort or ("relevance" if items else "newest")
    if sort == "relevance" and not items:
        sort = "newest"
    cursor = _cursor(query.cursor, sort)
    mirror = mirror_of(connection, new_mirror)
    at = generation(connection) if at_generation is None else at_generation
    with mirror.reading(connection, at) as m:
        words = [matched(m, connection, word) for word in items]
        found = chosen(m, connection, query, [w.anywhere for w in words])
        docs = np.flatnonzero(found)
        facets = {
            name: facet(m, connection, name, docs, found, query.facet_limit) for name in dict.fromkeys(query.facets)
        }
        need = (query.offset or 0) + query.limit + 1
        if sort == "relevance":
            rows = by_relevance(m, words, docs, cursor, need)
        elif sort == "newest":
            rows = by_newest(m, docs, cursor, need)
        else:
            rows = by_title(connection, query.state, found, docs, cursor, need)
    rows = rows[query.offset or 0 :]
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        if query.offset is None:
            next_cursor = encode_cursor({"s": sort, "k": rows[-1][1], "d": rows[-1][0]})
    scores = [int(key) for _, key in rows] if sort == "relevance" else []
    return Hits(
        docs=[int(doc) for doc, _ in rows], count=len(docs), next_cursor=next_cursor, facets=facets, scores=scores
    )


def _cursor(value: str | None, sort: str) -> tuple[Any, int] | None:
    """The (sort key, document) a page starts after."""
    if value is None:
        return None
    values = decode_cursor(value)
    key, doc = values.get("k"), values.get("d")
    expected = str if sort == "title" else int
    if values.get("s") != sort or type(doc) is not int or type(key) is not expected:
        raise invalid("cursor", "not a cursor of this search")
    return key, doc


def _dataset_ids(connection: Connection, docs: list[int]) -> dict[int, str]:
    if not docs:
        return {}
    statement = expanding("SELECT doc, dataset_id FROM dataset_search WHERE doc IN :docs", "docs")
    return {int(doc): str(dataset_id) for doc, dataset_id in connection.execute(statement, {"docs": docs})}
