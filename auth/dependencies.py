"""FastAPI dependencies every router shares: the request's session, the caller, role checks, list parameters."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from auth import service
from auth.caller import Caller
from auth.config import AuthSettings
from auth.exceptions import InvalidCredentials, RoleRequired
from auth.models import Account
from auth.roles import Role
from auth.schemas import AccountPublic
from auth.token_cache import TOKENS
from auth.tokens import hash_token, looks_like_token
from storage.db import Clock, SessionFactory
from storage.exceptions import Forbidden
from storage.pagination import MAX_LIMIT

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

SESSION_COOKIE = "pdr_session"
# A write authenticated by the session cookie alone must prove it came from our own pages: this header (scripts)
# or this form field (the portal's forms) carries the session's CSRF token.
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
# Only small url-encoded forms are read for the field: a multipart body may be a streamed upload, which must not be
# parsed here ahead of its own limits; such a request sends the header.
_FORM_TYPES = ("application/x-www-form-urlencoded",)


# Dependencies that do no blocking I/O are `async def`: a plain `def` would cost a thread-pool hop each.


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The one session of a request: a reader for GET and HEAD, carrying the app's clock and keys.

    Whatever the use case did not commit is rolled back when the request ends.
    """
    open_session: SessionFactory = request.app.state.open_session
    session = open_session(write=request.method not in READ_ONLY_METHODS)
    try:
        yield session
    finally:
        # Closing rolls back an open transaction (database I/O: a worker thread); otherwise it is free.
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


async def get_auth_settings(request: Request) -> AuthSettings:
    """The auth settings of the running app, as a dependency."""
    return auth_settings(request)


DbSession = Annotated[Session, Depends(get_session)]


def _presented_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise InvalidCredentials("the Authorization header must be 'Bearer <token>'")
        return value.strip()
    return request.cookies.get(SESSION_COOKIE)


def request_caller(request: Request, account_id: str | None = None, **fields: object) -> Caller:
    """The Caller for this request, carrying its request id and client address."""
    client = request.client.host if request.client else None
    caller = Caller(
        account_id=account_id,
        request_id=getattr(request.state, "request_id", None),
        client_addr=client,
        **fields,  # type: ignore[arg-type]
    )
    # The middleware reads this to attribute refused requests in the audit trail.
    request.state.caller = caller
    return caller


def auth_settings(request: Request) -> AuthSettings:
    """The auth settings of the running app."""
    settings: AuthSettings = request.app.state.settings.auth
    return settings


def _authenticate(request: Request, secret: str, digest: str, settings: AuthSettings) -> Account:
    """Check a token against the database, in a session of its own that ends (and frees its connection) here."""
    open_session: SessionFactory = request.app.state.open_session
    with open_session(write=False) as session:
        token, account = service.check_token(session, secret, settings)
        session.commit()
    TOKENS.put(digest, token.id, token.expires_at, account)
    return account


async def caller_of_token(request: Request, settings: AuthSettings, secret: str) -> Caller:
    """The caller a presented token (or session cookie's secret) signs in; InvalidCredentials for a dead one.

    A token checked within the last second comes from the process's cache (auth/token_cache.py), with no database
    work and no thread hop; otherwise it is checked in a worker thread, in a session of its own, so that a route
    which needs no database (`/me`) opens none.
    """
    if not looks_like_token(secret):
        raise InvalidCredentials()
    digest = hash_token(secret, settings.secret_key.get_secret_value())
    clock: Clock = request.app.state.clock
    cached = TOKENS.get(digest, clock())
    account: Account | AccountPublic
    if cached is not None:
        account = cached.account
    else:
        account = await run_in_threadpool(_authenticate, request, secret, digest, settings)
    request.state.account = account
    request.state.account_json = cached.account_json if cached is not None else None
    return request_caller(
        request, account_id=account.id, name=account.name, role=Role(account.role), entity_id=account.entity_id
    )


class CsrfRefused(Forbidden):
    """A write authenticated by the session cookie alone came without its session's CSRF token."""

    def __init__(self) -> None:
        super().__init__("the request lacks this session's CSRF token; reload the page and try again")


def csrf_token(settings: AuthSettings, session_secret: str) -> str:
    """The CSRF token of a session: a keyed hash of its secret, which a page of another site cannot compute."""
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, b"csrf\0" + session_secret.encode(), hashlib.sha256).hexdigest()


def cookie_session(request: Request) -> str | None:
    """The session secret when the session cookie, and no Authorization header, authenticates the request."""
    if request.headers.get("authorization") is not None:
        return None
    return request.cookies.get(SESSION_COOKIE)


async def _check_csrf(request: Request, settings: AuthSettings, session_secret: str) -> None:
    """Refuse a cookie-authenticated write that does not carry its session's CSRF token."""
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(_FORM_TYPES):
        field = (await request.form()).get(CSRF_FIELD)
        presented = field if isinstance(field, str) else None
    if presented is None or not hmac.compare_digest(presented.encode(), csrf_token(settings, session_secret).encode()):
        raise CsrfRefused()


async def optional_caller(request: Request) -> Caller:
    """The signed-in caller, or an anonymous one when no credentials were sent; worked out once a request."""
    known: Caller | None = getattr(request.state, "caller", None)
    if known is not None:
        return known
    secret = _presented_token(request)
    if secret is None:
        return request_caller(request)
    settings = auth_settings(request)
    if request.method not in READ_ONLY_METHODS and cookie_session(request) is not None:
        await _check_csrf(request, settings, secret)
    return await caller_of_token(request, settings, secret)


async def current_caller(request: Request) -> Caller:
    """The signed-in caller; anonymous callers get 401. Not a sub-dependency of `optional_caller`: each level of
    dependencies costs FastAPI a few percent of a request as cheap as `/me`."""
    caller = await optional_caller(request)
    if caller.is_anonymous:
        raise InvalidCredentials()
    return caller


def require_role(*roles: Role) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency admitting only callers with one of the roles."""
    names = tuple(role.value for role in roles)

    async def dependency(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        if not caller.has_role(*roles):
            raise RoleRequired(names)
        return caller

    return dependency


# The page size and the opaque cursor of every list route.
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=2000)]

AnyCaller = Annotated[Caller, Depends(optional_caller)]
SignedIn = Annotated[Caller, Depends(current_caller)]
Admin = Annotated[Caller, Depends(require_role(Role.admin))]
Staff = Annotated[Caller, Depends(require_role(Role.operator, Role.admin))]
