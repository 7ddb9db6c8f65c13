"""Searching datasets as the caller may see them: the search's view of the caller, and the page of results."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Row, Select, bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session

from auth.caller import Caller
from auth.roles import Role
from catalog.datasets.index import follow_registry
from catalog.datasets.models import Dataset
from catalog.datasets.schemas import DatasetPublic, Publisher
from catalog.datasets.views import present
from catalog.search.models import DatasetSearch
from catalog.search.query import FacetValue, SearchQuery, Viewer
from registry.models import Entity
from storage.together import table_of


def viewer_of(caller: Caller) -> Viewer:
    """The search's view of a caller."""
    if caller.is_staff:
        return Viewer(staff=True)
    if caller.has_role(Role.provider) and caller.entity_id:
        return Viewer(entity_id=caller.entity_id)
    return Viewer()


@dataclass
class SearchPage:
    """One page of search results as the API shows them."""

    items: list[DatasetPublic]
    count: int
    next_cursor: str | None
    facets: dict[str, list[FacetValue]]


def search_datasets(session: Session, caller: Caller, query: SearchQuery) -> SearchPage:
    """Search the catalog as the caller may see it."""
    # Imported by the first search: the search engine brings numpy, which a worker of an empty catalog never needs.
    from catalog.search.service import find

    at_generation = follow_registry(session)
    query.viewer = viewer_of(caller)
    hits = find(session, query, at_generation)
    # The page's datasets with their publishers in one query; a dataset the mirror knows but this transaction
    # cannot see yet (it began before the write) is left out by the join.
    by_doc: dict[int, Row[Any]] = {}
    publishers: dict[str, Publisher] = {}
    for row in session.connection().execute(_page_rows(), {"docs": hits.docs}):
        by_doc[row.doc] = row
        publishers[row.entity_id] = Publisher(id=row.entity_id, name=row.publisher_name, name_en=row.publisher_en)
    scores: list[int | None] = list(hits.scores) or [None] * len(hits.docs)
    found = [(by_doc[doc], score) for doc, score in zip(hits.docs, scores, strict=True) if doc in by_doc]
    items = present(session, [dataset for dataset, _ in found], viewer=caller, publishers=publishers)
    for item, (_, score) in zip(items, found, strict=True):
        item.score = score
    return SearchPage(items=items, count=hits.count, next_cursor=hits.next_cursor, facets=hits.facets)


@cache
def _page_rows() -> Select[Any]:
    """The page's datasets with their publishers' names by document number, built once: building it cost a search
    as much as running it. Rows, not model instances: the view only reads their columns, and loading twenty of
    them through the ORM cost a search a tenth of its time."""
    search, datasets, entities = table_of(DatasetSearch), table_of(Dataset), table_of(Entity)
    return (
        core_select(
            search.c.doc,
            *datasets.columns,
            entities.c.name.label("publisher_name"),
            entities.c.name_en.label("publisher_en"),
        )
        .select_from(search.join(datasets, datasets.c.id == search.c.dataset_id))
        .join(entities, entities.c.id == datasets.c.entity_id)
        .where(search.c.doc.in_(bindparam("docs", expanding=True)))
    )
