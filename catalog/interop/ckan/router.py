"""HTTP routes of the CKAN Action API: ``/api/3/action/{name}`` and ``/api/action/{name}``, GET and POST."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from auth import service
from auth.caller import Caller
from auth.dependencies import request_caller
from auth.exceptions import InvalidCredentials
from auth.roles import Role
from catalog.interop.ckan.actions import WRITES, run_action
from catalog.interop.ckan.errors import CkanError
from catalog.interop.ckan.params import refuse_control_characters
from catalog.interop.ckan.read_actions import Context
from catalog.interop.ckan.shapes import CkanEnvelope
from storage.inputs import MAX_JSON_DEPTH, json_too_deep

router = APIRouter(tags=["ckan"])


def _help(request: Request, name: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/api/3/action/help_show?name={name}"


def _token(request: Request) -> str | None:
    """CKAN clients send the key raw in X-CKAN-API-Key or Authorization; a Bearer prefix is accepted too."""
    for header in ("x-ckan-api-key", "authorization"):
        value = request.headers.get(header, "").strip()
        if value:
            scheme, _, rest = value.partition(" ")
            return rest.strip() if scheme.lower() == "bearer" and rest.strip() else value
    return None


async def _data(request: Request) -> dict[str, Any]:
    data = await _parsed(request)
    refuse_control_characters(data)
    return data


async def _parsed(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        return dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    raw = await request.body()
    if not raw.strip():
        return dict(request.query_params)
    # Python's parser recurses once per level: a body nested thousands deep would end in a RecursionError.
    if json_too_deep(raw):
        raise CkanError("Bad Request", 400, f"the body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CkanError("Bad Request", 400, "the body is not JSON") from exc
    if not isinstance(data, dict):
        raise CkanError("Bad Request", 400, "the body must be a JSON object")
    return data


def _run(request: Request, name: str, data: dict[str, Any], token: str | None) -> Any:
    app = request.app
    with app.state.open_session(write=name in WRITES) as session:
        caller = request_caller(request)
        if token is not None:
            try:
                account = service.authenticate(session, token, app.state.settings.auth)
            except InvalidCredentials as exc:
                raise CkanError("Authorization Error", 403, "the API key is not valid") from exc
            caller = request_caller(
                request, account_id=account.id, name=account.name, role=Role(account.role), entity_id=account.entity_id
            )
        context = Context(
            session=session, caller=caller, settings=app.state.settings.catalog, base_url=app.state.settings.base_url
        )
        return run_action(context, name, data)


async def action(request: Request, name: str) -> JSONResponse:
    """Run a CKAN action and answer in CKAN's envelope; errors never redirect and never leave the envelope."""
    try:
        data = await _data(request)
        result = await run_in_threadpool(_run, request, name, data, _token(request))
    except CkanError as exc:
        if name in WRITES:
            request.state.caller = getattr(request.state, "caller", Caller())
        body = {"help": _help(request, name), "success": False, "error": exc.body()}
        return JSONResponse(body, status_code=exc.status)
    return JSONResponse({"help": _help(request, name), "success": True, "result": result})


# CKAN's clients read its envelope, errors included, never a problem body.
CKAN_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": description, "model": CkanEnvelope}
    for status, description in (
        (200, "The action's result, in CKAN's envelope"),
        (400, "An unknown action or a body that is not a JSON object (CKAN's Bad Request)"),
        (403, "Not authorised (CKAN's Authorization Error)"),
        (404, "No such package, organization or resource (CKAN's Not Found Error)"),
        (409, "A parameter or field is wrong (CKAN's Validation Error or Search Query Error)"),
    )
}

# Both spellings of the path, with and without a trailing slash, so that no client is ever redirected; a route
# per method, so that each has an operation id of its own in the OpenAPI document.
for prefix in ("/api/3/action", "/api/action"):
    for suffix in ("/{name}", "/{name}/"):
        for method in ("GET", "POST"):
            router.add_api_route(
                prefix + suffix,
                action,
                methods=[method],
                name=f"ckan_action_{method.lower()}",
                include_in_schema=suffix == "/{name}",
                responses=CKAN_RESPONSES,
            )
