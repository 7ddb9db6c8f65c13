"""API shapes of payload files."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class FilePublic(BaseModel):
    """A payload file of a dataset version."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    dataset_id: str
    version: int
    name: str
    media_type: str
    size: int
    sha256: str
    created_at: datetime
