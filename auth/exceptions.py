"""Errors of the auth package."""

from __future__ import annotations

from storage.exceptions import Forbidden, Unauthenticated

BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="pdr"'}


class InvalidCredentials(Unauthenticated):
    """The token or password is missing, unknown, expired or revoked; we never say which."""

    def __init__(self, detail: str = "a valid API token is required") -> None:
        super().__init__(detail, headers=dict(BEARER_CHALLENGE))


class RoleRequired(Forbidden):
    """The caller's role does not allow the action."""

    def __init__(self, roles: tuple[str, ...]) -> None:
        super().__init__(f"this action needs the role {' or '.join(roles)}")
