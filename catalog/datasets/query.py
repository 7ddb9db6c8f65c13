"""Searching datasets as the caller may see them: the search's view of the caller, and the page of results."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from auth.caller import Caller
from auth.roles import Role
from catalog.datasets.index import follow_registry
from catalog.datasets.models import Dataset
from catalog.datasets.schemas import DatasetPublic
from catalog.datasets.views import present
from catalog.search.models import DatasetSearch
from catalog.search.query import FacetValue, SearchQuery, Viewer
from registry.models import Entity


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
    rows = session.exec(_page_rows(), params={"docs": hits.docs})
    by_doc, publishers = {}, {}
    for doc, dataset, entity in rows:
        by_doc[doc], publishers[entity.id] = dataset, entity
    scores: list[int | None] = list(hits.scores) or [None] * len(hits.docs)
    found = [(by_doc[doc], score) for doc, score in zip(hits.docs, scores, strict=True) if doc in by_doc]
    items = present(session, [dataset for dataset, _ in found], viewer=caller, publishers=publishers)
    for item, (_, score) in zip(items, found, strict=True):
        item.score = score
    return SearchPage(items=items, count=hits.count, next_cursor=hits.next_cursor, facets=hits.facets)


@cache
def _page_rows() -> Select[Any, Dataset, Entity]:
    """The page's datasets with their publishers by document number, built once: building it cost a search as much
    as running it."""
    return (
        select(DatasetSearch.doc, Dataset, Entity)
        .join(Dataset, col(Dataset.id) == col(DatasetSearch.dataset_id))
        .join(Entity, col(Entity.id) == col(Dataset.entity_id))
        .where(col(DatasetSearch.doc).in_(bindparam("docs", expanding=True)))
    )
