"""RFC 9457 problem responses for every error the service can answer with."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

from auth.exceptions import BEARER_CHALLENGE
from storage.exceptions import DomainError

PROBLEM_TYPE_BASE = "https://pdr.example/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# When a client may try again after the database failed to answer: long enough for a restart or a failover.
DATABASE_RETRY_AFTER_SECONDS = 5

log = logging.getLogger("pdr.errors")


class ProblemResponse(JSONResponse):
    """JSON (Chinese kept as text, as Starlette renders it) with the problem media type."""

    media_type = PROBLEM_MEDIA_TYPE


def problem(
    request: Request,
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    slug: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, object] | None = None,
) -> ProblemResponse:
    """Build one problem response carrying the request id."""
    phrase = HTTPStatus(status).phrase
    body: dict[str, object] = {
        "type": PROBLEM_TYPE_BASE + (slug or phrase.lower().replace(" ", "-")),
        "title": title or phrase,
        "status": status,
        "detail": detail or phrase,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return ProblemResponse(body, status_code=status, headers=headers)


def _field_name(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in location]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:] or parts
    return ".".join(parts)


async def handle_domain_error(request: Request, exc: Exception) -> ProblemResponse:
    """A service refused on purpose."""
    assert isinstance(exc, DomainError)
    if exc.audited:
        request.state.audited = True
    return problem(
        request,
        exc.status,
        title=exc.title,
        detail=exc.detail,
        slug=exc.type_slug,
        errors=[{"field": e.field, "message": e.message} for e in exc.errors] or None,
        headers=exc.headers or None,
        extra=exc.extra or None,
    )


async def handle_validation_error(request: Request, exc: Exception) -> ProblemResponse:
    """Request fields that failed validation, each named."""
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field_name(e.get("loc", ())), "message": str(e.get("msg", "invalid"))} for e in exc.errors()]
    fields = ", ".join(sorted({e["field"] for e in errors})) or "the request"
    return problem(
        request, 422, title="Invalid input", slug="invalid-input", detail=f"invalid value for {fields}", errors=errors
    )


def _allowed_methods(request: Request) -> str | None:
    """Every method some route serves at this path, found by asking the app's routes about each method.

    Starlette's router names only the methods of the first route whose path matches, so a path served by two
    routes (GET in one, PATCH in another) would be said to allow GET alone.
    """
    routes = [route for route in request.app.router.routes if isinstance(route, BaseRoute)]
    allowed = [
        method
        for method in HTTP_METHODS
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    ]
    return ", ".join(allowed) or None


async def handle_http_exception(request: Request, exc: Exception) -> ProblemResponse:
    """Starlette's own errors: unknown paths, wrong methods and the like."""
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 401:
        headers.update(BEARER_CHALLENGE)
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no resource at {request.url.path}"
    elif exc.status_code == 405:
        allowed = _allowed_methods(request) or headers.pop("allow", None) or headers.pop("Allow", None) or "-"
        headers = {k: v for k, v in headers.items() if k.lower() != "allow"} | {"Allow": allowed}
        detail = f"{request.method} is not allowed here; allowed: {allowed}"
    return problem(request, exc.status_code, detail=detail, headers=headers or None)


def internal_error(request: Request, headers: dict[str, str] | None = None) -> ProblemResponse:
    """The 500 problem: nothing of the internals, only the request id to quote."""
    return problem(
        request,
        500,
        title="Internal error",
        slug="internal-error",
        detail="the service failed to answer; quote the request id when reporting this",
        headers=headers,
    )


def database_unavailable(request: Request) -> ProblemResponse:
    """The 503 problem of a database that cannot serve now (down, lost, busy or out of connections)."""
    return problem(
        request,
        503,
        title="Database unavailable",
        slug="database-unavailable",
        detail="the database cannot answer now; try again shortly",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


async def handle_unexpected(request: Request, exc: Exception) -> ProblemResponse:
    """Last resort for an error the request middleware itself raised: log it, tell the client nothing of it."""
    request_id = getattr(request.state, "request_id", None)
    log.error("unhandled error in the request middleware", exc_info=exc)
    # This handler runs outside the request middleware, which would otherwise add the header.
    return internal_error(request, headers={"X-Request-ID": request_id} if request_id else None)


def install_problem_handlers(app: FastAPI) -> None:
    """Route every kind of error to its problem response."""
    app.add_exception_handler(DomainError, handle_domain_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(Exception, handle_unexpected)
