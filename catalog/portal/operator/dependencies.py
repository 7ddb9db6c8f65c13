"""What every operator console route needs: the staff-only gate, and answering a successful form with a redirect."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import Request as HttpRequest
from fastapi.responses import RedirectResponse, Response

from auth.caller import Caller
from catalog.portal.dependencies import page_request, to_signin
from storage.exceptions import Forbidden

BASE = "/console/operator"


def refused(http: HttpRequest, caller: Caller) -> Response | None:
    """None for the registry's staff; a signed-out visitor is sent to sign in; anyone else gets the 403 page."""
    if caller.is_anonymous:
        # A form posted while signed out comes back to the console, not to a path that only takes posts.
        return (
            to_signin(http) if http.method == "GET" else RedirectResponse(f"/signin?{urlencode({'next': BASE})}", 303)
        )
    if not caller.is_staff:
        raise Forbidden("the operator console is for the registry's staff")
    return None


def see_other(http: HttpRequest, path: str, params: Mapping[str, str] | None = None) -> RedirectResponse:
    """Post/redirect/get: 303 to a console page, keeping the language the visitor chose."""
    return RedirectResponse(page_request(http).url(BASE + path, params or {}), status_code=303)
