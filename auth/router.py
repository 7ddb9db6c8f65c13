"""HTTP routes of the auth package."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from auth import audit, service
from auth.config import AuthSettings
from auth.dependencies import (
    SESSION_COOKIE,
    Admin,
    Cursor,
    DbSession,
    Limit,
    SignedIn,
    current_caller,
    get_auth_settings,
    request_caller,
)
from auth.models import AuditTally
from auth.schemas import (
    AccountCreate,
    AccountCreated,
    AccountPublic,
    AuditEventPublic,
    AuditTallyPublic,
    LoginRequest,
    TokenCreate,
    TokenCreated,
    TokenPublic,
)
from auth.token_cache import account_json
from storage.pages import Page
from storage.pagination import DEFAULT_LIMIT

router = APIRouter(prefix="/api/v1", tags=["accounts"])

AuthConfig = Annotated[AuthSettings, Depends(get_auth_settings)]


@router.get("/me", response_model=AccountPublic)
async def read_me(request: Request) -> Response:
    """The calling account, as loaded when its token was checked (or as the token cache holds it, rendered once)."""
    # The caller is worked out here rather than declared as a dependency: clients call /me to check a token, and
    # FastAPI's solving of one sub-dependency costs a tenth of so cheap a request. 401 is documented by path.
    await current_caller(request)
    body: bytes | None = request.state.account_json
    return Response(body or account_json(request.state.account), media_type="application/json")


@router.post("/accounts", response_model=AccountCreated, status_code=status.HTTP_201_CREATED)
def create_account(body: AccountCreate, caller: Admin, session: DbSession, settings: AuthConfig) -> AccountCreated:
    """An admin creates an account; its first token is shown once."""
    account, token = service.create_account(
        session, caller, settings, name=body.name, role=body.role, entity_id=body.entity_id, password=body.password
    )
    return AccountCreated(account=AccountPublic.model_validate(account), token=token.secret)


@router.get("/tokens", response_model=Page[TokenPublic])
def list_tokens(
    caller: SignedIn, session: DbSession, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[TokenPublic]:
    """The caller's own tokens, without their secrets."""
    page = service.list_tokens(session, caller, limit=limit, cursor=cursor)
    return Page[TokenPublic].model_validate(page, from_attributes=True)


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, caller: SignedIn, session: DbSession, settings: AuthConfig) -> TokenCreated:
    """Another token for the calling account; its secret is shown this once."""
    expires_in = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token = service.issue_token(session, caller, settings, name=body.name, expires_in=expires_in)
    return TokenCreated(**TokenPublic.model_validate(token.row).model_dump(), token=token.secret)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: str, caller: SignedIn, session: DbSession) -> Response:
    """Revoke a token; it stops working at once."""
    service.revoke_token(session, caller, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/login",
    response_model=TokenCreated,
    responses={429: {"description": "Too many failed sign-ins for this name from this address; see Retry-After"}},
)
def login(
    body: LoginRequest, request: Request, response: Response, session: DbSession, settings: AuthConfig
) -> TokenCreated:
    """Password sign-in for the web pages: a session token, also set as an HttpOnly cookie."""
    # Whatever session cookie came along is not read: signing in again needs neither it nor its CSRF token.
    caller = request_caller(request)
    _, token = service.login(session, caller, settings, name=body.name, password=body.password)
    response.set_cookie(
        SESSION_COOKIE,
        token.secret,
        max_age=settings.session_ttl_hours * 3600,
        httponly=True,
        secure=settings.cookie_secure or request.url.scheme == "https",
        samesite="strict",
    )
    return TokenCreated(**TokenPublic.model_validate(token.row).model_dump(), token=token.secret)


@router.get("/audit/tallies", response_model=list[AuditTallyPublic])
def read_audit_tallies(
    _admin: Admin,
    session: DbSession,
    since: datetime | None = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
) -> list[AuditTally]:
    """Refused requests of anonymous callers, counted per minute, route and status; the last day by default."""
    return audit.list_tallies(session, since=since, action=action)


@router.get("/audit", response_model=Page[AuditEventPublic])
def read_audit(
    _admin: Admin,
    session: DbSession,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    actor_id: str | None = None,
    action: str | None = None,
) -> Page[AuditEventPublic]:
    """The audit trail, newest first (admins only)."""
    page = service.list_audit(session, limit=limit, cursor=cursor, actor_id=actor_id, action=action)
    return Page[AuditEventPublic].model_validate(page, from_attributes=True)
