"""The portal's routes: each page reads through one use case and renders its template; nothing is decided here."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi import Request as HttpRequest
from fastapi.responses import HTMLResponse, Response

from auth.dependencies import AnyCaller, Cursor, DbSession
from catalog.datasets.query import search_datasets
from catalog.portal import pages
from catalog.portal.i18n import LOCALES, choose_locale
from catalog.portal.render import Renderer, Request
from catalog.portal.search_view import FILTERS, SearchForm, results
from catalog.web.dependencies import CatalogConfig
from registry.dependencies import RegistryConfig
from storage.exceptions import DomainError, NotFound

router = APIRouter(include_in_schema=False)

RESULTS_PER_PAGE = 20
# Everything from this origin, no inline script or style, no plugins; forms post only here.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'"
)
STATIC = files("catalog.portal") / "static"
_STATIC_TYPES = {"portal.css": "text/css; charset=utf-8"}

Lang = Annotated[str | None, Query(max_length=8)]
AcceptLanguage = Annotated[str | None, Header(max_length=500)]
Values = Annotated[list[str] | None, Query(max_length=100)]


def _request(http: HttpRequest, lang: str | None, accept_language: str | None) -> Request:
    return Request(
        locale=choose_locale(lang, accept_language),
        explicit=lang in LOCALES,
        path=http.url.path,
        query=tuple(http.query_params.multi_items()),
    )


def _show(http: HttpRequest, page: Request, template: str, build: Callable[[], dict[str, Any]]) -> HTMLResponse:
    """The page rendered from what `build` read, or the error page for the domain error it raised."""
    renderer: Renderer = http.app.state.portal
    status = 200
    try:
        html = renderer.render(template, page, **build())
    except DomainError as error:
        status = error.status
        html = renderer.render("error.html", page, status=error.status, detail=error.detail)
    headers = {"Content-Security-Policy": POLICY, "Content-Language": page.locale, "Vary": "Accept-Language, Cookie"}
    return HTMLResponse(html, status_code=status, headers=headers)


@router.get("/")
def home(
    http: HttpRequest, caller: AnyCaller, session: DbSession, lang: Lang = None, accept_language: AcceptLanguage = None
) -> HTMLResponse:
    """The home page: search, themes, newest and most-downloaded datasets, the registry in figures."""
    page = _request(http, lang, accept_language)
    return _show(http, page, "home.html", lambda: {"home": pages.home(session, caller)})


@router.get("/search")
def search(
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    settings: CatalogConfig,
    q: Annotated[str, Query(max_length=500)] = "",
    theme: Values = None,
    publisher: Values = None,
    format: Values = None,
    access: Values = None,
    licence: Values = None,
    sort: Annotated[str | None, Query(pattern="^(relevance|newest|title)$")] = None,
    cursor: Cursor = None,
    lang: Lang = None,
    accept_language: AcceptLanguage = None,
) -> HTMLResponse:
    """Search results with facets as filters, exact counts, a sort and cursor pages, all in a shareable URL."""
    page = _request(http, lang, accept_language)
    chosen = {"theme": theme, "publisher": publisher, "format": format, "access": access, "licence": licence}
    form = SearchForm(
        q=q.strip(),
        filters={name: tuple(dict.fromkeys(chosen[name] or ())) for name in FILTERS},
        sort=sort,
        cursor=cursor,
    )

    def build() -> dict[str, Any]:
        found = search_datasets(session, caller, form.query(settings.facet_limit, RESULTS_PER_PAGE))
        return {"results": results(form, found)}

    return _show(http, page, "search.html", build)


@router.get("/datasets/{dataset_id}")
def dataset(
    dataset_id: str,
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    lang: Lang = None,
    accept_language: AcceptLanguage = None,
) -> HTMLResponse:
    """A dataset: metadata, publisher, versions and files, registry record and certificates, other views."""
    page = _request(http, lang, accept_language)
    return _show(http, page, "dataset.html", lambda: {"page": pages.dataset_page(session, caller, dataset_id)})


@router.get("/entities/{entity_id}")
def entity(
    entity_id: str,
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    lang: Lang = None,
    accept_language: AcceptLanguage = None,
) -> HTMLResponse:
    """A publisher and its datasets."""
    page = _request(http, lang, accept_language)
    return _show(http, page, "entity.html", lambda: {"page": pages.entity_page(session, caller, entity_id)})


@router.get("/notices")
def notices(
    http: HttpRequest,
    session: DbSession,
    settings: RegistryConfig,
    cursor: Cursor = None,
    lang: Lang = None,
    accept_language: AcceptLanguage = None,
) -> HTMLResponse:
    """The public notice board."""
    page = _request(http, lang, accept_language)
    return _show(http, page, "notices.html", lambda: {"board": pages.notices(session, settings, cursor)})


@router.get("/log")
def transparency_log(
    http: HttpRequest, session: DbSession, lang: Lang = None, accept_language: AcceptLanguage = None
) -> HTMLResponse:
    """The transparency log: its latest checkpoint and how to check it independently."""
    page = _request(http, lang, accept_language)
    return _show(http, page, "log.html", lambda: {"log": pages.log_page(session)})


@router.get("/static/portal/{name}")
def static_file(name: str) -> Response:
    """One of the portal's own files; only those named here exist, so no name can reach another file."""
    media_type = _STATIC_TYPES.get(name)
    if media_type is None:
        raise NotFound("no such file")
    body = (STATIC / name).read_bytes()
    return Response(body, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})
