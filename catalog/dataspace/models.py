"""Tables of the data space: each dataset's ODRL offers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from storage.ids import new_id
from storage.types import UTCDateTime, utcnow


class DatasetOffer(SQLModel, table=True):
    """One offer of a dataset: its terms as ODRL JSON in pdr's profile, checked when written."""

    __tablename__ = "dataset_offer"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    dataset_id: str = Field(foreign_key="dataset.id", index=True, max_length=26)
    # The permission, prohibition and obligation lists, as catalog.dataspace.policies writes them.
    policy: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by: str | None = Field(default=None, max_length=26)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
