"""Who is calling: the account behind a request and where the request came from."""

from __future__ import annotations

from dataclasses import dataclass

from auth.roles import Role


@dataclass(frozen=True)
class Caller:
    """The caller of a use case; anonymous when account_id is None."""

    account_id: str | None = None
    name: str | None = None
    role: Role | None = None
    entity_id: str | None = None
    request_id: str | None = None
    client_addr: str | None = None

    @property
    def is_anonymous(self) -> bool:
        """Whether no account stands behind the call."""
        return self.account_id is None

    def has_role(self, *roles: Role) -> bool:
        """Whether the caller holds one of the given roles."""
        return self.role is not None and self.role in roles

    @property
    def is_staff(self) -> bool:
        """Operators and admins: the registry's own people."""
        return self.has_role(Role.operator, Role.admin)


SYSTEM = Caller(account_id=None, name="system")
