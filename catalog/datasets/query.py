"""Searching datasets as the caller may see them: the search's view of the caller, and the page of results."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from auth.caller import Caller
from auth.roles import Role
from catalog.datasets.index import sync_registry
from catalog.datasets.models import Dataset
from catalog.datasets.schemas import DatasetPublic
from catalog.datasets.views import present
from catalog.search.query import FacetValue, SearchQuery, Viewer


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
    from catalog.search.service import search

    sync_registry(session)
    query.viewer = viewer_of(caller)
    result = search(session, query)
    by_id = {d.id: d for d in session.exec(select(Dataset).where(col(Dataset.id).in_(result.ids)))}
    ordered = [by_id[i] for i in result.ids if i in by_id]
    items = present(session, ordered, viewer=caller)
    for item, score in zip(items, result.scores, strict=False):
        item.score = score
    return SearchPage(items=items, count=result.count, next_cursor=result.next_cursor, facets=result.facets)
