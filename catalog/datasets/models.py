"""Tables of the catalog: datasets, their versions, files and distributions, and the search rows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.ids import new_id
from storage.types import UTCDateTime, utcnow


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


class DatasetSearch(SQLModel, table=True):
    """A dataset's compact search row: an integer document number for the full-text index, and every filter.

    The full-text index itself (``dataset_fts``: FTS5 on SQLite, a tsvector table on PostgreSQL) is created by
    the migration, keyed by ``doc``.
    """

    __tablename__ = "dataset_search"
    __table_args__ = (Index("ix_dataset_search_state_title", "state", "title_key"),)

    doc: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    dataset_id: str = Field(foreign_key="dataset.id", unique=True, max_length=26)
    entity_id: str = Field(index=True, max_length=26)
    state: str = Field(max_length=16)
    access: str = Field(max_length=16)
    registered: bool = False
    licence: str | None = Field(default=None, max_length=100)
    theme_bits: int = Field(default=0, sa_type=BigInteger)
    format_bits: int = Field(default=0, sa_type=BigInteger)
    year_start: int | None = None
    year_end: int | None = None
    title_key: str = Field(max_length=200)
    # Microseconds since the epoch: one exact integer sort key on both engines.
    modified_key: int = Field(sa_type=BigInteger)
    # The generation of the index write that last wrote this row: each process's mirror follows these.
    seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, index=True, server_default="0"))


class DatasetTag(SQLModel, table=True):
    """A dataset's keyword as an exact tag, for CKAN's tags filter, facet and tag_list."""

    __tablename__ = "dataset_tag"

    tag: str = Field(primary_key=True, max_length=100)
    doc: int = Field(primary_key=True, foreign_key="dataset_search.doc", index=True)


class CatalogFormat(SQLModel, table=True):
    """The bit a distribution format holds in the search rows' format mask."""

    __tablename__ = "catalog_format"

    name: str = Field(primary_key=True, max_length=40)
    # 0..61 one format each; formats beyond the 62nd share OVERFLOW_BIT and show as "OTHER".
    bit: int


class CatalogSync(SQLModel, table=True):
    """How far the catalog has followed a feed, such as the registry's transparency log."""

    __tablename__ = "catalog_sync"

    name: str = Field(primary_key=True, max_length=60)
    position: int = Field(default=0, sa_type=BigInteger)
