"""Tables of the catalog's datasets: the datasets, their versions, files and distribution links."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.ids import new_id
from storage.types import UTCDateTime, utcnow


class DatasetState:
    """Life of a dataset (and of each of its versions) in the catalog."""

    draft = "draft"
    published = "published"
    withdrawn = "withdrawn"


class Dataset(SQLModel, table=True):
    """A dataset as the catalog shows it; metadata kept in the registry is read from there, not copied."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    # CKAN's package name: the idempotency key of the bulk import.
    name: str = Field(max_length=100, unique=True)
    title: str = Field(max_length=300)
    title_en: str | None = Field(default=None, max_length=300)
    description: str = Field(default="", sa_type=Text)
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    themes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    entity_id: str = Field(foreign_key="entity.id", index=True, max_length=26)
    licence: str | None = Field(default=None, max_length=100)
    # The open attribute when no registry record is linked; a linked resource's own value wins.
    access: str = Field(default="unconditional", max_length=16)
    temporal_start: date | None = None
    temporal_end: date | None = None
    spatial: str | None = Field(default=None, max_length=300)
    update_frequency: str | None = Field(default=None, max_length=16)
    resource_id: str | None = Field(default=None, foreign_key="data_resource.id", index=True, max_length=26)
    landing_page: str | None = Field(default=None, max_length=1000)
    state: str = Field(default="draft", max_length=16, index=True)
    # The newest version's number; version 1 exists from creation.
    version: int = 1
    extras: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    issued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    modified_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str | None = Field(default=None, max_length=26)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DatasetVersion(SQLModel, table=True):
    """One version of a dataset; once published its files never change."""

    __tablename__ = "dataset_version"
    __table_args__ = (UniqueConstraint("dataset_id", "version"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    dataset_id: str = Field(foreign_key="dataset.id", index=True, max_length=26)
    version: int
    state: str = Field(default="draft", max_length=16)
    notes: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DatasetFile(SQLModel, table=True):
    """A payload file of one version of a dataset, addressed by its SHA-256 in the object store."""

    __tablename__ = "dataset_file"
    __table_args__ = (Index("ix_dataset_file_dataset_version", "dataset_id", "version"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    dataset_id: str = Field(foreign_key="dataset.id", max_length=26)
    version: int
    name: str = Field(max_length=300)
    media_type: str = Field(max_length=200)
    size: int = Field(sa_type=BigInteger)
    sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DatasetDistribution(SQLModel, table=True):
    """A distribution published as a link (CKAN's resource with a URL); uploads are dataset files."""

    __tablename__ = "dataset_distribution"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=26)
    dataset_id: str = Field(foreign_key="dataset.id", index=True, max_length=26)
    version: int
    name: str = Field(max_length=300)
    url: str = Field(max_length=2000)
    format: str | None = Field(default=None, max_length=40)
    media_type: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
