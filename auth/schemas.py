"""API shapes of the auth package."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from auth.roles import Role

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,99}$"


class AccountPublic(BaseModel):
    """An account as its owner and admins see it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    role: Role
    entity_id: str | None
    is_active: bool
    created_at: datetime


class AccountCreate(BaseModel):
    """An admin creates an account."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    role: Role
    entity_id: str | None = None
    password: str | None = Field(default=None, min_length=12, max_length=1024)


class AccountCreated(BaseModel):
    """A new account and its first token, shown this once."""

    account: AccountPublic
    token: str


class TokenCreate(BaseModel):
    """A request for another API token of one's own account."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="api", min_length=1, max_length=100)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenPublic(BaseModel):
    """A token as listed: never the secret itself."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenPublic):
    """A token just created; the only time its secret is shown."""

    token: str


class LoginRequest(BaseModel):
    """Password sign-in for the web pages."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class AuditTallyPublic(BaseModel):
    """How many requests of anonymous callers one route refused with one status in one minute."""

    model_config = ConfigDict(from_attributes=True)

    minute: datetime
    action: str
    status: int
    outcome: str
    count: int


class AuditEventPublic(BaseModel):
    """One audit row."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    at: datetime
    actor_id: str | None
    actor_name: str | None
    action: str
    target: str | None
    outcome: str
    status: int | None
    request_id: str | None
    client_addr: str | None
