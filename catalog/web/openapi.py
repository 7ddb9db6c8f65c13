"""The OpenAPI document, with every status an operation can answer and the RFC 9457 problem body it carries.

FastAPI documents each route's success and, for routes with parameters, a 422 in its own validation-error shape.
pdr answers every error as `application/problem+json` (`catalog.web.problems`), so the document is completed here,
by rules that follow from an operation's shape (any record it reads may not exist: 404; a body can be too large:
413; the native API can meet a refused token: 401; ...). A route declares in its own `responses` only what no rule
can know (a download's 206 and 416, an upload's 408 and 429), with a description and no body: the problem body is
added here, so that a router never needs this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from catalog.web.problems import PROBLEM_MEDIA_TYPE

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem: what went wrong, for people and for programs.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem."},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "The path of the request."},
        "request_id": {"type": "string", "description": "Quote it when reporting a problem."},
        "errors": {
            "type": "array",
            "description": "The fields that are wrong, each with what is wrong with it.",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
WRITES = frozenset({"post", "put", "patch", "delete"})
# Operations that touch no dependency, so an outage cannot reach them.
DEPENDENCY_FREE = frozenset({"/healthz", "/metrics"})
# Operations that look nothing up, so nothing they ask for can be missing.
NOTHING_TO_FIND = DEPENDENCY_FREE | {"/readyz", "/openapi.json"}
# FastAPI's own 422 shape, unused once every 422 is a problem.
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _problem_response(status: int) -> dict[str, Any]:
    return {"description": HTTPStatus(status).phrase, "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}}


def _statuses(path: str, method: str, operation: dict[str, Any]) -> Iterable[int]:
    """The error statuses an operation can answer, from its shape."""
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    if parameters or has_body:
        yield 422
    if path not in NOTHING_TO_FIND:
        yield 404
    if has_body:
        yield from (400, 413)
    if path.startswith("/api/v1/"):
        # A presented token may be refused (401); a caller may lack the role or the right to the record (403).
        yield from (401, 403)
    if method in WRITES:
        yield 409
    if path not in DEPENDENCY_FREE:
        yield 503


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """Add the problem schema and each operation's error statuses to a generated OpenAPI document."""
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in _statuses(path, method, operation):
                current = responses.get(str(status))
                if current is None or _is_fastapi_validation(current):
                    responses[str(status)] = _problem_response(status)
            for status, response in responses.items():
                # A route's own error statuses, declared without a body: they answer problems too.
                if status.isdigit() and int(status) >= 400 and "content" not in response:
                    response["content"] = _problem_response(int(status))["content"]
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    if "HTTPValidationError" not in _referenced(document):
        for name in FASTAPI_VALIDATION_SCHEMAS:
            schemas.pop(name, None)
    return document


def _is_fastapi_validation(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))


def _referenced(document: dict[str, Any]) -> str:
    """The document's paths as text, to see which schemas they still name."""
    return repr(document.get("paths", {}))


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, openapi_version=app.openapi_version, routes=app.routes
            )
            app.openapi_schema = complete(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
