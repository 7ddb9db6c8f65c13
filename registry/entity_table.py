"""The entity table on its own: every other table of the registry refers to it, and so does an account, whose
command (`pdr accounts create`) should not pay for declaring the rest of the registry."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.ids import new_id
from storage.types import UTCDateTime, utcnow


class Entity(SQLModel, table=True):
    """A registrant: a department holding public data, an operator, a data merchant or another unit."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    name: str = Field(max_length=200, index=True)
    name_en: str | None = Field(default=None, max_length=200)
    kind: str = Field(max_length=16)
    uscc: str = Field(max_length=18, unique=True)
    region_code: str = Field(max_length=6, index=True)
    contact_name: str | None = Field(default=None, max_length=100)
    contact_phone: str | None = Field(default=None, max_length=40)
    contact_email: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    status: str = Field(default="pending", max_length=16, index=True)
    status_reason: str | None = Field(default=None, max_length=1000)
    created_by: str | None = Field(default=None, max_length=26)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
