"""Signing in and out from the pages, the account page with its API tokens, and the consumer console."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi import Request as HttpRequest
from fastapi.responses import RedirectResponse, Response

from auth import service
from auth.dependencies import CSRF_FIELD, AnyCaller, Cursor, DbSession, auth_settings, cookie_session, request_caller
from auth.exceptions import InvalidCredentials
from catalog.portal.account.applications import ApplyForm, blank_form, dataset_to_apply_for, file_application
from catalog.portal.accounts import ConsoleCursors, account_tokens, consumer_console, end_session
from catalog.portal.dependencies import (
    PortalRoute,
    clear_session_cookie,
    local_path,
    page_request,
    presession_valid,
    set_session_cookie,
    show,
    to_signin,
)
from catalog.portal.render import Request
from storage.exceptions import DomainError, Forbidden, TooManyRequests

router = APIRouter(include_in_schema=False, route_class=PortalRoute)

Token = Annotated[str, Form(alias=CSRF_FIELD, max_length=200)]
Next = Annotated[str, Form(max_length=2000)]
Text = Annotated[str, Form(max_length=2000)]
Day = Annotated[str, Form(max_length=20)]
MAX_TOKEN_DAYS = 3650


def _signin_page(http: HttpRequest, page: Request, next_path: str, status: int = 200, **message: object) -> Response:
    values = {"problem": None, "wait_minutes": 0, "name": ""} | message
    return show(http, page, "signin.html", status, next=local_path(next_path), **values)


@router.get("/signin")
def signin_form(http: HttpRequest, next: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    """The sign-in form; `next` is where a successful sign-in goes, if it is a path on this site."""
    return _signin_page(http, page_request(http, visitor_forms=True), next or "/")


@router.post("/signin")
def signin(
    http: HttpRequest,
    session: DbSession,
    csrf: Token = "",
    name: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Next = "/",
) -> Response:
    """Password sign-in: a session cookie and back to `next`; a wrong password or a lockout is said on the form."""
    page = page_request(http, visitor_forms=True)
    if not presession_valid(http, csrf):
        raise Forbidden("the sign-in form's token is missing or wrong; reload the page and try again")
    settings = auth_settings(http)
    try:
        _, token = service.login(session, request_caller(http), settings, name=name, password=password)
    except InvalidCredentials as error:
        http.state.audited = error.audited
        return _signin_page(http, page, next, 401, problem="wrong", name=name)
    except TooManyRequests as error:
        wait = int(error.headers.get("Retry-After", "60"))
        response = _signin_page(http, page, next, 429, problem="locked", wait_minutes=-(-wait // 60), name=name)
        response.headers["Retry-After"] = str(wait)
        return response
    response = RedirectResponse(local_path(next), status_code=303)
    set_session_cookie(http, response, token.secret)
    return response


@router.post("/signout")
def signout(http: HttpRequest, caller: AnyCaller, session: DbSession) -> Response:
    """End the session server-side and forget its cookie; the form's token was checked with the caller."""
    secret = cookie_session(http)
    response = RedirectResponse("/", status_code=303)
    if not caller.is_anonymous and secret is not None:
        end_session(session, caller, auth_settings(http), secret)
    clear_session_cookie(http, response)
    return response


def _account_page(
    http: HttpRequest, caller: AnyCaller, session: DbSession, status: int = 200, **extra: object
) -> Response:
    page = page_request(http)
    values = {"new_token": None, "problem": None} | extra
    return show(http, page, "account.html", status, caller=caller, tokens=account_tokens(session, caller), **values)


@router.get("/account")
def account(http: HttpRequest, caller: AnyCaller, session: DbSession) -> Response:
    """Who one is, and one's API tokens."""
    if caller.is_anonymous:
        return to_signin(http)
    return _account_page(http, caller, session)


@router.post("/account/tokens")
def create_token(
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    name: Annotated[str, Form(max_length=100)] = "",
    expires_in_days: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """A new API token, its secret shown on this page once."""
    if caller.is_anonymous:
        return to_signin(http)
    days = expires_in_days.strip()
    if not name.strip() or (days and not (days.isdigit() and 1 <= int(days) <= MAX_TOKEN_DAYS)):
        return _account_page(http, caller, session, 422, problem="token-fields")
    expires_in = timedelta(days=int(days)) if days else None
    made = service.issue_token(session, caller, auth_settings(http), name=name.strip(), expires_in=expires_in)
    return _account_page(http, caller, session, 201, new_token=made)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(token_id: str, http: HttpRequest, caller: AnyCaller, session: DbSession) -> Response:
    """Revoke one of one's tokens; it stops working at once."""
    if caller.is_anonymous:
        return to_signin(http)
    service.revoke_token(session, caller, token_id)
    return RedirectResponse("/account?revoked=1", status_code=303)


@router.get("/console/consumer")
def consumer(
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    requests: Cursor = None,
    grants: Cursor = None,
    downloads: Cursor = None,
) -> Response:
    """A signed-in caller's requests, grants (status, downloads left, period) and download history, a page of each."""
    if caller.is_anonymous:
        return to_signin(http)
    console = consumer_console(session, caller, ConsoleCursors(requests, grants, downloads))
    return show(http, page_request(http), "consumer.html", console=console)


def _apply_page(
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    dataset_id: str,
    form: ApplyForm,
    status: int = 200,
    **extra: object,
) -> Response:
    dataset = dataset_to_apply_for(session, caller, dataset_id)
    values = {"problems": set(), "refusal": None, "refusal_status": None} | extra
    return show(http, page_request(http), "apply.html", status, dataset=dataset, form=form, **values)


@router.get("/datasets/{dataset_id}/apply")
def apply_form(dataset_id: str, http: HttpRequest, caller: AnyCaller, session: DbSession) -> Response:
    """The form to apply for a conditional dataset; signing in comes first."""
    if caller.is_anonymous:
        return to_signin(http)
    return _apply_page(http, caller, session, dataset_id, blank_form(session))


@router.post("/datasets/{dataset_id}/apply")
def apply(
    dataset_id: str,
    http: HttpRequest,
    caller: AnyCaller,
    session: DbSession,
    purpose: Text = "",
    scenario: Text = "",
    use_category: Annotated[str, Form(max_length=40)] = "",
    requested_from: Day = "",
    requested_until: Day = "",
) -> Response:
    """File the application and show it on the consumer console; fields to correct are marked on the form."""
    if caller.is_anonymous:
        return to_signin(http)
    form = ApplyForm(purpose, scenario, use_category, requested_from, requested_until)
    try:
        filed = file_application(session, caller, dataset_id, form)
    except DomainError as error:
        if error.status == 404:
            raise
        return _apply_page(
            http, caller, session, dataset_id, form, error.status, refusal=error.detail, refusal_status=error.status
        )
    if isinstance(filed, set):
        return _apply_page(http, caller, session, dataset_id, form, 422, problems=filed)
    return RedirectResponse(page_request(http).url("/console/consumer", {"applied": filed.id}), status_code=303)
