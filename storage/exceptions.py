"""Domain errors shared by every package: each carries the HTTP status it maps to, never FastAPI itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field of a request: where it is and what is wrong with it."""

    field: str
    message: str


class DomainError(Exception):
    """Base of every error a service raises on purpose; rendered as an RFC 9457 problem."""

    status: int = 400
    title: str = "Bad request"
    type_slug: str = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[FieldProblem] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra or {}
        # Set when the service already wrote the audit row for this failure itself.
        self.audited = False


class InvalidInput(DomainError):
    """The request is well formed but its values break a rule (422)."""

    status = 422
    title = "Invalid input"
    type_slug = "invalid-input"


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it does (404)."""

    status = 404
    title = "Not found"
    type_slug = "not-found"


class Unauthenticated(DomainError):
    """No valid credentials were presented (401)."""

    status = 401
    title = "Unauthenticated"
    type_slug = "unauthenticated"


class Forbidden(DomainError):
    """The caller is known but not allowed to do this (403)."""

    status = 403
    title = "Forbidden"
    type_slug = "forbidden"


class Conflict(DomainError):
    """The request clashes with the current state (409)."""

    status = 409
    title = "Conflict"
    type_slug = "conflict"


class PayloadTooLarge(DomainError):
    """The body is larger than allowed (413)."""

    status = 413
    title = "Payload too large"
    type_slug = "payload-too-large"


class TooManyRequests(DomainError):
    """The caller must slow down (429)."""

    status = 429
    title = "Too many requests"
    type_slug = "too-many-requests"


class BadGateway(DomainError):
    """A service pdr forwards to could not be reached or gave no valid answer (502)."""

    status = 502
    title = "Bad gateway"
    type_slug = "bad-gateway"


class GatewayTimeout(DomainError):
    """A service pdr forwards to did not answer in time (504)."""

    status = 504
    title = "Gateway timeout"
    type_slug = "gateway-timeout"


class ServiceUnavailable(DomainError):
    """A dependency (database, object store) cannot be reached now (503)."""

    status = 503
    title = "Service unavailable"
    type_slug = "service-unavailable"
