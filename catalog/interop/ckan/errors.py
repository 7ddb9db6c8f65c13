"""Errors in CKAN's terms, so that ``ckanapi`` raises its own NotFound, NotAuthorized and ValidationError."""

from __future__ import annotations

from typing import Any

from storage.exceptions import Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unauthenticated


class CkanError(Exception):
    """An error in CKAN's terms: its type, HTTP status, message and field errors."""

    def __init__(self, kind: str, status: int, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.message = message
        self.fields = fields or {}

    def body(self) -> dict[str, Any]:
        """The ``error`` member of CKAN's envelope."""
        return {"__type": self.kind, "message": f"{self.kind}: {self.message}", **self.fields}


def from_domain(exc: DomainError) -> CkanError:
    """A pdr domain error as CKAN would report it."""
    fields: dict[str, list[str]] = {}
    for problem in exc.errors:
        fields.setdefault(problem.field or "record", []).append(problem.message)
    if isinstance(exc, NotFound):
        return CkanError("Not Found Error", 404, exc.detail)
    if isinstance(exc, Forbidden | Unauthenticated):
        return CkanError("Authorization Error", 403, exc.detail)
    if isinstance(exc, InvalidInput | Conflict):
        return CkanError("Validation Error", 409, exc.detail, fields or {"record": [exc.detail]})
    if exc.status >= 500:
        return CkanError("Internal Server Error", exc.status, exc.detail)
    return CkanError("Validation Error", 409, exc.detail, fields)


def validation(field_name: str, message: str) -> CkanError:
    """A CKAN validation error on one field."""
    return CkanError("Validation Error", 409, f"{field_name}: {message}", {field_name: [message]})
