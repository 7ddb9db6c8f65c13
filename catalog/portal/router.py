"""The portal's public routes, the notice board's objection form among them: each page reads through one use case
and renders its template; nothing is decided here."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Query
from fastapi import Request as HttpRequest
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from auth.dependencies import CSRF_FIELD, AnyCaller, Cursor, DbSession
from catalog.datasets.query import search_datasets
from catalog.portal import pages
from catalog.portal.account.negotiations.router import router as consumer_negotiations_router
from catalog.portal.account.router import router as account_router
from catalog.portal.dependencies import PortalRoute, page_request, presession_valid, show
from catalog.portal.negotiations import offers_to_negotiate
from catalog.portal.operator.router import router as operator_router
from catalog.portal.provider.router import router as provider_router
from catalog.portal.render import Request
from catalog.portal.search_view import FILTERS, SearchForm, results
from catalog.web.dependencies import CatalogConfig
from registry.config import RegistrySettings
from registry.dependencies import RegistryConfig
from registry.objections import file_objection
from registry.schemas import ObjectionCreate
from storage.exceptions import DomainError, Forbidden, NotFound, TooManyRequests

router = APIRouter(include_in_schema=False, route_class=PortalRoute)

RESULTS_PER_PAGE = 20
STATIC = files("catalog.portal") / "static"
_STATIC_TYPES = {"portal.css": "text/css; charset=utf-8", "upload.js": "text/javascript; charset=utf-8"}

Lang = Annotated[str | None, Query(max_length=8)]
AcceptLanguage = Annotated[str | None, Header(max_length=500)]
Values = Annotated[list[str] | None, Query(max_length=100)]


def _request(http: HttpRequest, lang: str | None, accept_language: str | None) -> Request:
    # `lang` and `accept_language` are declared on each route for their limits; the page reads them itself.
    return page_request(http)


def _show(http: HttpRequest, page: Request, template: str, build: Callable[[], dict[str, Any]]) -> HTMLResponse:
    """The page rendered from what `build` read, or the error page for the domain error it raised."""
    try:
        data = build()
    except DomainError as error:
        return show(http, page, "error.html", error.status, status=error.status, detail=error.detail)
    return show(http, page, template, **data)


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

    def build() -> dict[str, Any]:
        """The dataset as the caller may see it, and its offers to negotiate if it is conditional."""
        shown = pages.dataset_page(session, caller, dataset_id)
        return {"page": shown, "offers": offers_to_negotiate(session, caller, dataset_id, shown.conditional)}

    return _show(http, page, "dataset.html", build)


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


LongText = Annotated[str, Form(max_length=4000)]


def _board(
    http: HttpRequest,
    page: Request,
    session: DbSession,
    settings: RegistrySettings,
    cursor: str | None,
    status: int = 200,
    **outcome: object,
) -> Response:
    values: dict[str, object] = {"filed": None, "problem": None, "detail": "", "failed_on": None} | outcome
    try:
        board = pages.notices(session, settings, cursor)
    except DomainError as error:
        return show(http, page, "error.html", error.status, status=error.status, detail=error.detail)
    return show(http, page, "notices.html", status, board=board, **values)


@router.get("/notices")
def notices(
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    settings: RegistryConfig,
    cursor: Cursor = None,
    objected: Annotated[str | None, Query(max_length=26)] = None,
    lang: Lang = None,
    accept_language: AcceptLanguage = None,
) -> Response:
    """The public notice board, each registration with its objection form."""
    return _board(http, page_request(http, visitor_forms=True), session, settings, cursor, filed=objected)


@router.post("/notices/{registration_id}/objections")
def object_to(
    registration_id: str,
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    settings: RegistryConfig,
    csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
    reason: LongText = "",
    name: Annotated[str, Form(max_length=200)] = "",
    contact: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """File an objection: with one's account when signed in, else with a name and a contact."""
    # A signed-in caller's token was checked with the session; a visitor's is checked against their cookie.
    if caller.is_anonymous and not presession_valid(http, csrf):
        raise Forbidden("the form's token is missing or wrong; reload the page and try again")
    page = page_request(http, visitor_forms=True)
    fields = {"reason": reason.strip()}
    if caller.is_anonymous:
        fields |= {"name": name.strip(), "contact": contact.strip()}
    try:
        body = ObjectionCreate.model_validate(fields)
        file_objection(session, caller, settings, registration_id, body)
    except ValidationError:
        return _board(http, page, session, settings, None, 422, problem="fields", failed_on=registration_id)
    except TooManyRequests:
        return _board(http, page, session, settings, None, 429, problem="rate", failed_on=registration_id)
    except DomainError as error:
        return _board(
            http,
            page,
            session,
            settings,
            None,
            error.status,
            problem="refused",
            detail=error.detail,
            failed_on=registration_id,
        )
    return RedirectResponse(page.url("/notices", {"objected": registration_id}), status_code=303)


@router.get("/log")
def transparency_log(
    http: HttpRequest, caller: AnyCaller, session: DbSession, lang: Lang = None, accept_language: AcceptLanguage = None
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


router.include_router(account_router)
router.include_router(consumer_negotiations_router)
router.include_router(provider_router)
router.include_router(operator_router)
