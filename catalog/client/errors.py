"""What the client raises: the service's RFC 9457 problem as an exception, and failures on this side of the wire."""

from __future__ import annotations

from typing import Any

import httpx


class ClientError(Exception):
    """Base of every error the client raises on purpose; `exit_code` is what the `pdrc` command exits with."""

    exit_code = 1


class ApiError(ClientError):
    """The service refused or failed a request; `problem` is its RFC 9457 document."""

    def __init__(self, status: int, problem: dict[str, Any], *, retry_after: float | None = None) -> None:
        self.status = status
        self.problem = problem
        self.title = str(problem.get("title") or f"HTTP {status}")
        self.detail = str(problem.get("detail") or "")
        self.retry_after = retry_after
        super().__init__(f"{self.title} ({status}): {self.detail}" if self.detail else f"{self.title} ({status})")

    @property
    def field_errors(self) -> list[dict[str, str]]:
        """The problem's `errors`: one {"field", "message"} per field that was wrong."""
        errors = self.problem.get("errors")
        return [dict(e) for e in errors] if isinstance(errors, list) else []


class NotSignedIn(ApiError):
    """401: no token, or one the service does not accept (expired, revoked, mistyped)."""

    exit_code = 3


class Refused(ApiError):
    """403: signed in, but not allowed (not one's entity, no live grant, ...)."""

    exit_code = 3


class NotFound(ApiError):
    """404: no such thing, or one the caller may not see."""

    exit_code = 4


class Conflict(ApiError):
    """409: the thing is not in a state that allows this (a published version, a closed notice, ...)."""

    exit_code = 5


class Unavailable(ApiError):
    """429 or 503: try again later; `retry_after` says when, if the service said."""

    exit_code = 7


class TransportError(ClientError):
    """The service could not be reached, or the connection broke."""

    exit_code = 7


class IntegrityError(ClientError):
    """Downloaded bytes do not match the SHA-256 the service gives for the file; nothing was kept under its name."""

    exit_code = 6


class ChangedOnServer(ClientError):
    """A resumed download's file is no longer what the partial copy was taken from."""

    exit_code = 5


class DiskFull(ClientError):
    """The local disk filled up while writing a download; the partial file is kept for a resume."""

    exit_code = 8


class VerificationFailed(ClientError):
    """A certificate did not pass every check."""

    exit_code = 9


_BY_STATUS: dict[int, type[ApiError]] = {
    401: NotSignedIn,
    403: Refused,
    404: NotFound,
    409: Conflict,
    429: Unavailable,
    503: Unavailable,
}


def raise_for_problem(response: httpx.Response) -> None:
    """Raise the ApiError that fits a 4xx or 5xx answer; do nothing for any other."""
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    problem = body if isinstance(body, dict) else {"title": response.reason_phrase, "status": response.status_code}
    retry = response.headers.get("retry-after", "")
    kind = _BY_STATUS.get(response.status_code, ApiError)
    raise kind(response.status_code, problem, retry_after=float(retry) if retry.isdigit() else None)
