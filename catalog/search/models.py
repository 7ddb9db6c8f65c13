"""Tables of the search index: the compact search rows, the tags, the format bits and the generations.

The full-text index itself (``dataset_fts``: FTS5 on SQLite, a tsvector table on PostgreSQL) is created by the
migration, keyed by ``doc``; no model describes it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary
from sqlmodel import Field, SQLModel


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


class SearchWordSet(SQLModel, table=True):
    """A query word's documents per field as compressed bitsets, read from the full-text index at `generation`
    and shared by every process of the catalog (``catalog.search.shared_words``)."""

    __tablename__ = "search_word_set"

    word: str = Field(primary_key=True, max_length=400)
    generation: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    title: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    keywords: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    description: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
