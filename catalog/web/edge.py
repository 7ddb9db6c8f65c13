"""Input checks at the edge, before routing: control characters in paths, query strings and JSON bodies, and JSON
nesting depth, so that both engines answer the same 404, 422 or 400 (PostgreSQL cannot hold NUL; SQLite can).

The CKAN Action API is left to its own router, which answers in CKAN's envelope (``catalog.interop.ckan``).
"""

from __future__ import annotations

import json
import re
from email.message import Message as MimeMessage
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalog.web.problems import problem
from storage.inputs import (
    MAX_JSON_DEPTH,
    control_character,
    control_in_json,
    control_message,
    json_too_deep,
    may_hold_control,
)

CKAN_PATHS = re.compile(r"^/api(/3)?/action(/|$)")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class EdgeMiddleware:
    """Refuses control characters and over-deep JSON before any route or database sees them."""

    def __init__(self, app: ASGIApp, *, streaming_paths: re.Pattern[str]) -> None:
        self.app = app
        self.streaming_paths = streaming_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check one request; pass it on unchanged when it is clean."""
        if scope["type"] != "http" or CKAN_PATHS.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        if control_character(scope["path"]) is not None:
            # No route holds a control character: the resource does not exist.
            await problem(Request(scope), 404, detail="no resource at this path")(scope, receive, send)
            return
        if self.streaming_paths.match(scope["path"]):
            # Uploads stream their bodies and take the file name as clients send it (curl, browsers); the route cleans
            # the name of control characters itself and checks the rest (catalog/files).
            await self.app(scope, receive, send)
            return
        refusal = _query_problem(scope)
        if refusal is None and scope["method"] in BODY_METHODS and _is_json(scope):
            body = await _read_body(receive)
            refusal = _body_problem(body)
            receive = _replay(body, receive)
        if refusal is not None:
            status, detail, errors = refusal
            answer = problem(
                Request(scope),
                status,
                title="Invalid input" if status == 422 else None,
                slug="invalid-input" if status == 422 else None,
                detail=detail,
                errors=errors,
            )
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)


Refusal = tuple[int, str, list[dict[str, str]] | None]


def _query_problem(scope: Scope) -> Refusal | None:
    """A 422 naming the first query parameter whose name or value holds a control character."""
    raw = bytes(scope.get("query_string", b"")).decode("latin-1")
    if "%" not in raw:
        return None  # a raw control character never gets past the HTTP server; only a percent-escape brings one
    for name, value in parse_qsl(raw, keep_blank_values=True):
        # Search boxes may receive pasted tabs and line breaks: harmless on both engines, so values may hold them.
        character = control_character(name) or control_character(value, text=True)
        if character is not None:
            return 422, f"invalid value for {name}", [{"field": name, "message": control_message(character)}]
    return None


def _is_json(scope: Scope) -> bool:
    """Whether FastAPI would parse this body as JSON: no content type, or application/json or any +json."""
    for key, value in scope["headers"]:
        if key == b"content-type":
            message = MimeMessage()
            message["content-type"] = bytes(value).decode("latin-1")
            subtype = message.get_content_subtype()
            return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))
    return True


async def _read_body(receive: Receive) -> bytes:
    # The request middleware outside this one bounds what `receive` yields (413 past the limit).
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then whatever the client sends next (a disconnect)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _body_problem(body: bytes) -> Refusal | None:
    """A 400 for JSON nested past the limit (parsers recurse per level), a 422 for a string holding a control
    character; malformed JSON is left to FastAPI, which names the position."""
    if json_too_deep(body):
        return 400, f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels", None
    if not may_hold_control(body):
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    found = control_in_json(value)
    if found is None:
        return None
    field, character = found
    field = field or "body"
    return 422, f"invalid value for {field}", [{"field": field, "message": control_message(character)}]
