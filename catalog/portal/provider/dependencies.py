"""What every page of the provider console shares: who may open it, how its pages are shown, and the caller of a
multipart form, whose CSRF field is read by its route from the form itself."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import Depends
from fastapi import Request as HttpRequest
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from auth.caller import Caller
from auth.dependencies import (
    auth_settings,
    caller_of_token,
    cookie_session,
    csrf_token,
    request_caller,
)
from auth.roles import Role
from catalog.portal.dependencies import page_request, show, to_signin
from catalog.portal.provider.forms import FormFields
from catalog.portal.provider.views import entity_form_defaults
from registry.entities import visible_entity
from registry.models import Entity

Build = Callable[[Entity], dict[str, Any]]


def page(http: HttpRequest, template: str, status: int = 200, /, **data: Any) -> Response:
    """A console page in the request's language."""
    return show(http, page_request(http), template, status, **data)


def console_entity(http: HttpRequest, caller: Caller, session: Session) -> Entity | Response:
    """The caller's entity, or the page to show instead: sign in, providers only, or register one's entity first."""
    if caller.is_anonymous:
        return to_signin(http)
    if not caller.has_role(Role.provider):
        return page(http, "provider/denied.html", 403)
    if not caller.entity_id:
        return page(http, "provider/no_entity.html", values=entity_form_defaults(), problems={})
    entity, _ = visible_entity(session, caller, caller.entity_id)
    return entity


def console_page(
    http: HttpRequest, caller: Caller, session: Session, template: str, build: Build, status: int = 200
) -> Response:
    """A console page built for the caller's entity, or what the caller sees instead (see `console_entity`)."""
    entity = console_entity(http, caller, session)
    if isinstance(entity, Response):
        return entity
    return page(http, template, status, entity=entity, **build(entity))


def form_token_valid(http: HttpRequest, presented: object) -> bool:
    """Whether a form read by its route came back with the CSRF token of the session that signed the caller in."""
    secret = cookie_session(http)
    if not secret or not isinstance(presented, str) or not presented:
        return False
    return hmac.compare_digest(presented.encode(), csrf_token(auth_settings(http), secret).encode())


async def form_caller(request: HttpRequest) -> Caller:
    """The caller signed in by the session cookie, for a multipart form: its route checks the form's CSRF field
    before it stores anything (the shared dependency reads that field from url-encoded forms only)."""
    secret = cookie_session(request)
    if secret is None:
        return request_caller(request)
    return await caller_of_token(request, auth_settings(request), secret)


FormCaller = Annotated[Caller, Depends(form_caller)]


async def form_fields(request: HttpRequest) -> FormFields:
    """The url-encoded form posted to a console route (parsed once: the CSRF check has read it already)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return FormFields({})
    values: dict[str, list[str]] = {}
    for name, value in (await request.form()).multi_items():
        if isinstance(value, str):
            values.setdefault(name, []).append(value)
    return FormFields(values)


Fields = Annotated[FormFields, Depends(form_fields)]


def go(http: HttpRequest, path: str, params: Mapping[str, str] | None = None) -> RedirectResponse:
    """After a successful post, the page to see its outcome on (post/redirect/get), in the page's language."""
    return RedirectResponse(page_request(http).url(path, params or {}), status_code=303)
