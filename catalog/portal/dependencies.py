"""The portal's side of sign-in: the page's request, the session cookie, CSRF tokens for forms, safe redirects."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request as HttpRequest
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from auth.caller import Caller
from auth.config import AuthSettings
from auth.dependencies import SESSION_COOKIE, auth_settings, cookie_session, csrf_token
from auth.exceptions import InvalidCredentials
from catalog.portal.i18n import LOCALES, choose_locale
from catalog.portal.render import Renderer, Request
from storage.exceptions import DomainError

# A signed-out visitor's forms (sign-in, an objection) carry a keyed hash of this cookie's random value.
PRESESSION_COOKIE = "pdr_presession"
# Everything from this origin, no inline script or style, no plugins; forms post only here.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'"
)


def _presession_token(settings: AuthSettings, nonce: str) -> str:
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, b"presession\0" + nonce.encode(), hashlib.sha256).hexdigest()


def page_request(http: HttpRequest, *, visitor_forms: bool = False) -> Request:
    """What a page needs of its request: language, path and query, who is signed in, and its forms' token.

    A signed-out visitor gets a pre-session cookie only from a page with a form (`visitor_forms`): the other pages
    stay free of cookies, and so cacheable.
    """
    lang = http.query_params.get("lang")
    settings = auth_settings(http)
    caller: Caller | None = getattr(http.state, "caller", None)
    viewer = caller.name if caller is not None and not caller.is_anonymous else None
    secret = cookie_session(http) if viewer else None
    nonce = http.cookies.get(PRESESSION_COOKIE) or ""
    token = ""
    if secret:
        token = csrf_token(settings, secret)
    elif visitor_forms:
        # A new visitor gets a value now; `show` sets it as the cookie the form's token is checked against.
        nonce = nonce if 20 <= len(nonce) <= 64 else secrets.token_urlsafe(24)
        token = _presession_token(settings, nonce)
    return Request(
        locale=choose_locale(lang, http.headers.get("accept-language")),
        explicit=lang in LOCALES,
        path=http.url.path,
        query=tuple(http.query_params.multi_items()),
        viewer=viewer,
        viewer_role=caller.role.value if viewer and caller is not None and caller.role is not None else None,
        csrf=token,
        presession=nonce if visitor_forms and not secret else None,
    )


def presession_valid(http: HttpRequest, presented: str) -> bool:
    """Whether a signed-out visitor's form came back with the token of their own pre-session cookie."""
    nonce = http.cookies.get(PRESESSION_COOKIE)
    if not nonce or not presented:
        return False
    return hmac.compare_digest(presented.encode(), _presession_token(auth_settings(http), nonce).encode())


def _secure(http: HttpRequest) -> bool:
    return auth_settings(http).cookie_secure or http.url.scheme == "https"


def show(http: HttpRequest, page: Request, template: str, code: int = 200, /, **data: Any) -> HTMLResponse:
    """A page in the request's language; private pages are never stored by a cache."""
    renderer: Renderer = http.app.state.portal
    html = renderer.render(template, page, **data)
    headers = {"Content-Security-Policy": POLICY, "Content-Language": page.locale, "Vary": "Accept-Language, Cookie"}
    if page.viewer:
        headers["Cache-Control"] = "no-store"
    response = HTMLResponse(html, status_code=code, headers=headers)
    if page.presession and http.cookies.get(PRESESSION_COOKIE) != page.presession:
        response.set_cookie(
            PRESESSION_COOKIE, page.presession, httponly=True, samesite="lax", secure=_secure(http), path="/"
        )
    return response


def set_session_cookie(http: HttpRequest, response: Response, secret: str) -> None:
    """The session cookie of a sign-in from the pages: HttpOnly, SameSite=Lax, Secure over https, whole site."""
    max_age = auth_settings(http).session_ttl_hours * 3600
    secure = _secure(http)
    response.set_cookie(SESSION_COOKIE, secret, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/")
    response.delete_cookie(PRESESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure)


def clear_session_cookie(http: HttpRequest, response: Response) -> None:
    """Forget the session cookie in the browser."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(http))


def local_path(target: str | None) -> str:
    """`target` if it is a path on this site, else the home page: a sign-in never sends anyone elsewhere."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target) or "\\" in target:
        return "/"
    return target


def to_signin(http: HttpRequest) -> RedirectResponse:
    """Send a signed-out visitor to the sign-in page, to come back here afterwards."""
    here = http.url.path + (f"?{http.url.query}" if http.url.query else "")
    return RedirectResponse(f"/signin?{urlencode({'next': here})}", status_code=303)


class PortalRoute(APIRoute):
    """A page route: errors raised before the page is built (a refused token, a stale session) become pages."""

    def get_route_handler(self) -> Callable[[HttpRequest], Coroutine[Any, Any, Response]]:
        """The route's handler, answering domain errors with the portal's own pages."""
        handler = super().get_route_handler()

        async def guarded(http: HttpRequest) -> Response:
            try:
                return await handler(http)
            except InvalidCredentials:
                # The cookie's session ended or was revoked: sign in again rather than see a bare 401.
                response = to_signin(http)
                clear_session_cookie(http, response)
                return response
            except DomainError as error:
                return show(
                    http, page_request(http), "error.html", error.status, status=error.status, detail=error.detail
                )

        return guarded
