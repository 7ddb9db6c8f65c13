"""Tables of the auth package: accounts, API tokens and the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from storage.ids import new_id
from storage.types import UTCDateTime, utcnow


class Account(SQLModel, table=True):
    """A person or system that calls pdr."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    name: str = Field(index=True, unique=True, max_length=100)
    role: str = Field(max_length=16)
    # The registry defines entities (and its migration adds this key): named by table, never imported.
    entity_id: str | None = Field(default=None, foreign_key="entity.id", max_length=26, index=True)
    password_hash: str | None = Field(default=None, max_length=255)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    """A bearer token of an account; only its hash is kept."""

    __tablename__ = "api_token"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    account_id: str = Field(foreign_key="account.id", index=True, max_length=26, ondelete="CASCADE")
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEvent(SQLModel, table=True):
    """One state-changing request: who did what to which thing, and how it ended."""

    __tablename__ = "audit_event"
    # The sign-in's limits count failures per account name and per client address over a time range.
    __table_args__ = (
        Index("ix_audit_event_target_at", "target", "at"),
        Index("ix_audit_event_client_addr_at", "client_addr", "at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_id: str | None = Field(default=None, max_length=26, index=True)
    actor_name: str | None = Field(default=None, max_length=100)
    action: str = Field(max_length=100)
    target: str | None = Field(default=None, max_length=200)
    outcome: str = Field(max_length=16)
    status: int | None = None
    request_id: str | None = Field(default=None, max_length=64)
    client_addr: str | None = Field(default=None, max_length=64)


class AuditTally(SQLModel, table=True):
    """Refused requests of anonymous callers, counted per minute, action (method and route) and status.

    Anyone can send refused requests, as many as they like; a row each would let them grow the audit trail
    without bound. The first refusal of each count also leaves one row in the trail, with its request id.
    """

    __tablename__ = "audit_tally"

    minute: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    action: str = Field(max_length=100, primary_key=True)
    status: int = Field(primary_key=True)
    outcome: str = Field(max_length=16)
    count: int = 0
