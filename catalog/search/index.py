# ruff: noqa: S608 - SQL here is assembled from fixed fragments; every value travels as a bound parameter.
"""Writing the search index: the compact search row, the tags and the full-text entry of each dataset.

Every index write moves the catalog's generation on first and stamps the rows it writes with it, so that each
process's mirror (``catalog.search.mirror``) catches up by reading only the rows written after the generation
it holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from catalog.search.formats import format_bits
from catalog.search.models import DatasetSearch
from catalog.search.tokens import DocumentText, document_text, normalise
from registry.enums import Theme
from storage.statements import bulk_insert, chunked, expanding, insert_rows

THEMES: tuple[Theme, ...] = tuple(Theme)
THEME_BIT = {theme.value: 1 << index for index, theme in enumerate(THEMES)}
# The format of the full-text entries' tokens (2: English words not their own stem are followed by their spelling).
# Entries written in an older format are rewritten by ``catalog.search.sources.refresh_text``.
TEXT_FORMAT = 2
_TEXT_FORMAT_ROW = "search_text_format"


@dataclass
class SearchDoc:
    """What the index needs to know about one dataset."""

    dataset_id: str
    entity_id: str
    state: str
    access: str
    registered: bool
    licence: str | None
    themes: Sequence[str]
    formats: Sequence[str]
    year_start: int | None
    year_end: int | None
    title: str
    title_en: str | None
    keywords: Sequence[str]
    description: str
    modified_at: datetime
    # Tokens computed ahead (the bulk import does it in another process); built from the fields when absent.
    text: DocumentText | None = None
    # The full-text entry itself in the engine's form (``full_text_entry``), computed ahead; wins over the tokens.
    full_text: tuple[str, ...] | None = None

    def document_text(self) -> DocumentText:
        """The tokens of the dataset's text."""
        if self.text is None:
            self.text = document_text(self.title, self.title_en, self.keywords, self.description)
        return self.text


def full_text_entry(body: DocumentText, dialect: str) -> tuple[str, ...]:
    """A document's full-text entry as the engine's table takes it: FTS5's three columns, or a tsvector literal."""
    return body.fts_row() if dialect == "sqlite" else (body.tsvector(),)


def title_key(title: str) -> str:
    """The sort key of a title: normalised, cut to the column's length."""
    return normalise(title).strip()[:200]


def modified_key(moment: datetime) -> int:
    """Microseconds since the epoch."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _tags(keywords: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(k.strip()[:100] for k in keywords if k and k.strip()))


def index_documents(session: Session, docs: Sequence[SearchDoc]) -> None:
    """Write (or rewrite) the search rows, tags and full-text entries of datasets, in the caller's transaction."""
    if not docs:
        return
    connection = session.connection()
    # First, so that on PostgreSQL concurrent index writers queue here and stamp their rows in commit order.
    seq = next_generation(connection)
    bits = format_bits(session, (f for d in docs for f in d.formats))
    rows = [_search_row(d, bits, seq) for d in docs]
    existing = _docs_of(connection, [d.dataset_id for d in docs])
    updates = [dict(row, doc=existing[row["dataset_id"]]) for row in rows if row["dataset_id"] in existing]
    inserts = [row for row in rows if row["dataset_id"] not in existing]
    if updates:
        _rewrite_rows(connection, updates)
    if inserts:
        # Numbered here rather than by each insert, so nothing has to be read back to learn the numbers.
        for row, doc in zip(inserts, allocate_docs(connection, len(inserts)), strict=True):
            row["doc"] = existing[row["dataset_id"]] = doc
        bulk_insert(connection, DatasetSearch.__table__, inserts)  # type: ignore[attr-defined]
    tag_rows = [(tag, existing[d.dataset_id]) for d in docs for tag in _tags(d.keywords)]
    insert_rows(connection, "dataset_tag", ("tag", "doc"), tag_rows)
    dialect = connection.dialect.name
    entries = [(existing[d.dataset_id], *(d.full_text or full_text_entry(d.document_text(), dialect))) for d in docs]
    _write_entries(connection, entries)


def allocate_docs(connection: Connection, count: int) -> list[int]:
    """Numbers for new search rows: from the column's sequence on PostgreSQL; on SQLite, after the highest, as
    SQLite itself would number them (the transaction holds the write lock since it moved the generation on)."""
    if connection.dialect.name == "postgresql":
        sql = "SELECT nextval(pg_get_serial_sequence('dataset_search', 'doc')) FROM generate_series(1, :n)"
        return sorted(int(doc) for (doc,) in connection.execute(text(sql), {"n": count}))
    highest = connection.execute(text("SELECT coalesce(max(doc), 0) FROM dataset_search")).scalar_one()
    return list(range(int(highest) + 1, int(highest) + 1 + count))


def _search_row(d: SearchDoc, format_bit: dict[str, int], seq: int) -> dict[str, Any]:
    """The compact search row of a document, its themes and formats as bit masks."""
    theme_mask = 0
    for theme in d.themes:
        theme_mask |= THEME_BIT.get(theme, 0)
    format_mask = 0
    for name in d.formats:
        if name in format_bit:
            format_mask |= 1 << format_bit[name]
    return {
        "dataset_id": d.dataset_id,
        "entity_id": d.entity_id,
        "state": d.state,
        "access": d.access,
        "registered": d.registered,
        "licence": d.licence,
        "theme_bits": theme_mask,
        "format_bits": format_mask,
        "year_start": d.year_start,
        "year_end": d.year_end,
        "title_key": title_key(d.title),
        "modified_key": modified_key(d.modified_at),
        "seq": seq,
    }


def _rewrite_rows(connection: Connection, updates: list[dict[str, Any]]) -> None:
    """Update documents already indexed, and drop their tags and full-text entries to be written anew."""
    connection.execute(
        text(
            "UPDATE dataset_search SET entity_id = :entity_id, state = :state, access = :access, "
            "registered = :registered, licence = :licence, theme_bits = :theme_bits, "
            "format_bits = :format_bits, year_start = :year_start, year_end = :year_end, "
            "title_key = :title_key, modified_key = :modified_key, seq = :seq WHERE doc = :doc"
        ),
        updates,
    )
    # FTS5 keys its rows by rowid; PostgreSQL's table has a doc column.
    key = "rowid" if connection.dialect.name == "sqlite" else "doc"
    for chunk in chunked([u["doc"] for u in updates], 500):
        params = {"docs": chunk}
        connection.execute(expanding("DELETE FROM dataset_tag WHERE doc IN :docs", "docs"), params)
        connection.execute(expanding(f"DELETE FROM dataset_fts WHERE {key} IN :docs", "docs"), params)


def _write_full_text(connection: Connection, texts: list[tuple[int, DocumentText]]) -> None:
    """The full-text entries of documents: FTS5 columns on SQLite, a weighted tsvector on PostgreSQL."""
    dialect = connection.dialect.name
    _write_entries(connection, [(doc, *full_text_entry(body, dialect)) for doc, body in texts])


def _write_entries(connection: Connection, entries: list[tuple[Any, ...]]) -> None:
    """Full-text entries (the document's number, then ``full_text_entry``) into the engine's full-text table."""
    # FTS5 keys its rows by rowid; PostgreSQL's table has a doc column, whose tsvector COPY parses as a cast would.
    if connection.dialect.name == "sqlite":
        insert_rows(connection, "dataset_fts", ("rowid", "title", "keywords", "description"), entries)
    else:
        insert_rows(connection, "dataset_fts", ("doc", "vector"), entries)


def rewrite_full_text(connection: Connection, texts: list[tuple[int, DocumentText]], seq: int) -> None:
    """Write the full-text entries of indexed documents anew, stamped with a generation every mirror follows."""
    key = "rowid" if connection.dialect.name == "sqlite" else "doc"
    for chunk in chunked([doc for doc, _ in texts], 500):
        params = {"docs": chunk, "seq": seq}
        connection.execute(expanding(f"DELETE FROM dataset_fts WHERE {key} IN :docs", "docs"), params)
        connection.execute(expanding("UPDATE dataset_search SET seq = :seq WHERE doc IN :docs", "docs"), params)
    _write_full_text(connection, texts)


def text_format(connection: Connection) -> int:
    """The token format the full-text entries were written in (the current one unless a migration said older)."""
    row = connection.execute(text("SELECT position FROM catalog_sync WHERE name = :n"), {"n": _TEXT_FORMAT_ROW}).first()
    return TEXT_FORMAT if row is None else int(row[0])


def set_text_format(connection: Connection, value: int) -> None:
    """Record the token format every full-text entry is now written in."""
    params = {"n": _TEXT_FORMAT_ROW, "p": value}
    moved = connection.execute(text("UPDATE catalog_sync SET position = :p WHERE name = :n"), params)
    if not moved.rowcount:
        connection.execute(text("INSERT INTO catalog_sync (name, position) VALUES (:n, :p)"), params)


def _docs_of(connection: Connection, dataset_ids: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in chunked(list(dataset_ids), 500):
        statement = expanding("SELECT dataset_id, doc FROM dataset_search WHERE dataset_id IN :ids", "ids")
        found.update({str(dataset_id): int(doc) for dataset_id, doc in connection.execute(statement, {"ids": chunk})})
    return found


# ---------------------------------------------------------------- generations


def generation(connection: Connection) -> int:
    """How many times the search index has been written; the mirror follows the rows each write stamps."""
    row = connection.execute(text("SELECT position FROM catalog_sync WHERE name = 'generation'")).first()
    return int(row[0]) if row else 0


def next_generation(connection: Connection) -> int:
    """Move the generation on (on PostgreSQL this also orders concurrent index writers) and return it."""
    moved = connection.execute(
        text("UPDATE catalog_sync SET position = position + 1 WHERE name = 'generation' RETURNING position")
    ).first()
    if moved is not None:
        return int(moved[0])
    # The migration creates the row; this only guards a database that lost it.
    connection.execute(text("INSERT INTO catalog_sync (name, position) VALUES ('generation', 1)"))
    return 1
