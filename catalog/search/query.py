"""What a search asks and what it answers: the query, the viewer it is for, facet values and the result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from catalog.search.index import THEME_BIT
from registry.enums import Openness
from storage.exceptions import FieldProblem, InvalidInput

FACETS = ("theme", "publisher", "format", "access", "year", "licence", "tag")


SORTS = ("relevance", "newest", "title")


@dataclass(frozen=True)
class Viewer:
    """Whose eyes the search is for: the staff see every access level, members their entity's own."""

    staff: bool = False
    entity_id: str | None = None


@dataclass
class SearchQuery:
    """A search request, already validated for types."""

    q: str | None = None
    themes: Sequence[str] = ()
    publishers: Sequence[str] = ()
    formats: Sequence[str] = ()
    access: Sequence[str] = ()
    licences: Sequence[str] = ()
    tags: Sequence[str] = ()
    year_from: int | None = None
    year_to: int | None = None
    registered: bool | None = None
    state: str = "published"
    sort: str | None = None
    facets: Sequence[str] = ()
    facet_limit: int = 20
    limit: int = 20
    cursor: str | None = None
    offset: int | None = None
    viewer: Viewer = field(default_factory=Viewer)


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet field and how many results have it."""

    value: str
    count: int
    label: str | None = None


@dataclass
class SearchResult:
    """The ids of one page in order, the exact total, the next cursor and the facet counts."""

    ids: list[str]
    count: int
    next_cursor: str | None
    facets: dict[str, list[FacetValue]]
    scores: list[int] = field(default_factory=list)


@dataclass
class Hits:
    """One page of matches by document number in order (their relevance too when sorted by it), the exact total,
    the next cursor and the facet counts; a document this transaction cannot see yet may be among them."""

    docs: list[int]
    count: int
    next_cursor: str | None
    facets: dict[str, list[FacetValue]]
    scores: list[int] = field(default_factory=list)


def invalid(field_name: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field_name}: {message}", errors=[FieldProblem(field_name, message)])


def check_query(query: SearchQuery) -> None:
    """Refuse values no search can use, naming the field."""
    for theme in query.themes:
        if theme not in THEME_BIT:
            raise invalid("theme", f"unknown theme {theme!r}")
    for level in query.access:
        if level not in Openness.__members__:
            raise invalid("access", f"unknown access level {level!r}")
    for name in query.facets:
        if name not in FACETS:
            raise invalid("facets", f"unknown facet {name!r}; known: {', '.join(FACETS)}")
    if query.sort is not None and query.sort not in SORTS:
        raise invalid("sort", f"one of {', '.join(SORTS)}")
    if query.state not in ("draft", "published", "withdrawn"):
        raise invalid("state", "one of draft, published, withdrawn")
    if query.year_from is not None and query.year_to is not None and query.year_from > query.year_to:
        raise invalid("year_from", "after year_to")
    if not 1 <= query.limit <= 1000:
        raise invalid("limit", "must be between 1 and 1000")
