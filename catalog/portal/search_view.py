"""The search page's data: the form as the URL carries it, facets as filter links, and matched words marked."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from catalog.datasets.query import SearchPage
from catalog.datasets.schemas import DatasetPublic
from catalog.search.query import FacetValue, SearchQuery
from catalog.search.tokens import finest_words

# Facets shown as filters, with the URL parameter each sets.
FILTERS = {"theme": "theme", "publisher": "publisher", "format": "format", "access": "access", "licence": "licence"}
SNIPPET_CHARACTERS = 180
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class SearchForm:
    """A search as its shareable URL says it: the words, the chosen filters, the order and the page."""

    q: str = ""
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str | None = None
    cursor: str | None = None

    def params(self) -> list[tuple[str, str]]:
        """The URL parameters of this search, first page."""
        pairs = [("q", self.q)] if self.q else []
        pairs += [(name, value) for name, values in self.filters.items() for value in values]
        if self.sort:
            pairs.append(("sort", self.sort))
        return pairs

    def toggled(self, name: str, value: str) -> list[tuple[str, str]]:
        """The parameters with one filter value added, or removed if it was chosen."""
        chosen = self.filters.get(name, ())
        values = tuple(v for v in chosen if v != value) if value in chosen else (*chosen, value)
        return replace(self, filters={**self.filters, name: values}).params()

    def query(self, facet_limit: int, limit: int) -> SearchQuery:
        """The search service's query for this form."""
        return SearchQuery(
            q=self.q or None,
            themes=self.filters.get("theme", ()),
            publishers=self.filters.get("publisher", ()),
            formats=self.filters.get("format", ()),
            access=self.filters.get("access", ()),
            licences=self.filters.get("licence", ()),
            sort=self.sort,
            facets=tuple(FILTERS),
            facet_limit=facet_limit,
            limit=limit,
            cursor=self.cursor,
        )


@dataclass(frozen=True)
class FacetLink:
    """One facet value as a filter link."""

    value: str
    label: str
    count: int
    chosen: bool
    params: list[tuple[str, str]]


@dataclass(frozen=True)
class Hit:
    """A result with its title and the start of its description cut into plain and marked pieces."""

    dataset: DatasetPublic
    title: list[tuple[str, bool]]
    title_en: list[tuple[str, bool]]
    snippet: list[tuple[str, bool]]


@dataclass(frozen=True)
class Results:
    """What the search page shows."""

    form: SearchForm
    count: int
    hits: list[Hit]
    facets: dict[str, list[FacetLink]]
    next_params: list[tuple[str, str]] | None


def marked_words(q: str) -> list[str]:
    """The words of a query to mark in results: each as typed, and the shorter words a Chinese one is made of."""
    words: list[str] = []
    for part in q.split():
        words.append(part)
        if _CJK.search(part):
            words.extend(finest_words(part))
    # Longest first, so that a longer word is marked whole rather than in pieces.
    return sorted({w for w in words if w.strip()}, key=len, reverse=True)


def mark(text: str, words: Sequence[str]) -> list[tuple[str, bool]]:
    """The text cut into (piece, matched) pieces, matching the words without regard to case."""
    if not words or not text:
        return [(text, False)] if text else []
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    pieces: list[tuple[str, bool]] = []
    position = 0
    for found in pattern.finditer(text):
        if found.start() > position:
            pieces.append((text[position : found.start()], False))
        pieces.append((found.group(), True))
        position = found.end()
    if position < len(text):
        pieces.append((text[position:], False))
    return pieces


def _snippet(description: str) -> str:
    flat = " ".join(description.split())
    return flat if len(flat) <= SNIPPET_CHARACTERS else flat[:SNIPPET_CHARACTERS].rstrip() + "…"


def _facet_links(form: SearchForm, name: str, values: Sequence[FacetValue]) -> list[FacetLink]:
    chosen = form.filters.get(name, ())
    links = [
        FacetLink(v.value, v.label or v.value, v.count, v.value in chosen, form.toggled(name, v.value)) for v in values
    ]
    shown = {link.value for link in links}
    # A chosen value the result no longer holds still gets its link, to take it off again.
    links += [FacetLink(v, v, 0, True, form.toggled(name, v)) for v in chosen if v not in shown]
    return links


def results(form: SearchForm, page: SearchPage) -> Results:
    """The search page's data from one page of the search service's results."""
    words = marked_words(form.q)
    hits = [
        Hit(d, mark(d.title, words), mark(d.title_en or "", words), mark(_snippet(d.description), words))
        for d in page.items
    ]
    facets = {name: _facet_links(form, name, page.facets.get(name, [])) for name in FILTERS}
    next_params = [*form.params(), ("cursor", page.next_cursor)] if page.next_cursor else None
    return Results(form=form, count=page.count, hits=hits, facets=facets, next_params=next_params)
