# ruff: noqa: S608 - SQL here is assembled from fixed fragments; every value travels as a bound parameter.
"""Bilingual full-text search with filters, facets and keyset pages, the same on SQLite and PostgreSQL.

Design, in short:

* pdr tokenizes in Python, once, for both engines. Chinese (and other CJK) runs become overlapping character
  bigrams followed by the run's last character alone; Latin words are folded, lower-cased and Snowball-stemmed.
  SQLite's FTS5 (``ascii`` tokenizer: it only splits on our spaces) and PostgreSQL's tsvector (built as a
  literal, no parser involved) therefore index exactly the same tokens at the same positions.
* A query is segmented into words with jieba (so ``天河区充电桩`` needs no space); each Chinese word becomes a
  phrase of its bigrams, which matches wherever the word occurs as a substring, a one-character word becomes a
  prefix token, an English word its stem. All words must match (AND).
* Relevance is an integer both engines compute identically: 8 if every word is in the title, +4 if some word
  is in the title, +2 in the keywords, +1 in the description. Ties are broken by id, so the order is total.
* Filters and facets read a compact row per dataset (``dataset_search``): bit masks for themes and formats,
  the coverage years, the access level and the publisher. Facet counts come from one pass over the filtered
  result set.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from catalog.models import DatasetSearch
from registry.enums import THEME_LABELS_ZH, Openness, Theme
from storage.exceptions import FieldProblem, InvalidInput
from storage.pagination import decode_cursor, encode_cursor

# ---------------------------------------------------------------- tokens

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0003134f"
_RUNS = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>(?:(?![{_CJK}])[^\W_])+)")
# PostgreSQL ignores lexemes over 2 KB; nothing that long is a word anyway.
MAX_WORD = 40
# PostgreSQL keeps positions up to 16383 and 256 positions per lexeme; we stop indexing a document before
# either limit, identically on both engines, so phrase matching never differs.
MAX_POSITIONS = 16000
MAX_PER_TOKEN = 255

_EN_STOP = frozenset(
    "a an and are as at be by for from in into is it of on or the to with".split()  # noqa: SIM905
)
_ZH_STOP = frozenset("的了和与及或在是之其等")

THEMES: tuple[Theme, ...] = tuple(Theme)
THEME_BIT = {theme.value: 1 << index for index, theme in enumerate(THEMES)}
OVERFLOW_BIT = 62
OVERFLOW_FORMAT = "OTHER"
FACETS = ("theme", "publisher", "format", "access", "year", "licence", "tag")


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball stem of a lower-case English word; other words unchanged."""
    if word.isascii() and word.isalpha() and len(word) > 2:
        return str(_stemmer().stemWord(word))
    return word


def normalise(value: str) -> str:
    """Full-width to half-width and compatibility forms (NFKC), then case-folded."""
    return unicodedata.normalize("NFKC", value).casefold()


def _fold(word: str) -> str:
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c) and c.isalnum())


def _word_token(word: str) -> str | None:
    folded = _fold(word)
    if not folded or len(folded) > MAX_WORD:
        return None
    return stem(folded)


def index_tokens(value: str | None) -> list[str]:
    """The tokens of a text as the index stores them."""
    tokens: list[str] = []
    if not value:
        return tokens
    for run, word in _RUNS.findall(normalise(value)):
        if run:
            tokens.extend(map(str.__add__, run[:-1], run[1:]))
            tokens.append(run[-1])
        else:
            token = _word_token(word)
            if token:
                tokens.append(token)
    return tokens


@dataclass(frozen=True)
class DocumentText:
    """The three weighted fields of a document, tokenized and capped identically for both engines."""

    title: list[str]
    keywords: list[str]
    description: list[str]

    @classmethod
    def build(cls, title: str, keywords: Iterable[str], description: str | None) -> DocumentText:
        """Tokenize a dataset's text; keywords are separate runs, so no phrase spans two of them."""
        # Keywords joined by a newline tokenize as separate runs, exactly as one by one, in one call.
        streams = (index_tokens(title), index_tokens("\n".join(keywords)), index_tokens(description))
        if sum(len(s) for s in streams) + 3 < MAX_POSITIONS:
            counted = Counter(streams[0])
            counted.update(streams[1])
            counted.update(streams[2])
            if max(counted.values(), default=0) <= MAX_PER_TOKEN:
                return cls(*streams)  # the usual case: nothing to cut
        counts: Counter[str] = Counter()
        total = 0
        fields: list[list[str]] = []
        for stream in streams:
            kept: list[str] = []
            for token in stream:
                if total >= MAX_POSITIONS or counts[token] >= MAX_PER_TOKEN:
                    break
                counts[token] += 1
                total += 1
                kept.append(token)
            fields.append(kept)
            total += 1  # the gap between fields on PostgreSQL
        return cls(*fields)

    def fts_row(self) -> tuple[str, str, str]:
        """The three FTS5 column values."""
        return " ".join(self.title), " ".join(self.keywords), " ".join(self.description)

    def tsvector(self) -> str:
        """A PostgreSQL tsvector literal: weights A, B, C, with a position gap between fields."""
        positions: dict[str, list[str]] = {}
        position = 1
        for weight, tokens in zip("ABC", (self.title, self.keywords, self.description), strict=True):
            for token in tokens:
                positions.setdefault(token, []).append(f"{position}{weight}")
                position += 1
            position += 1
        return " ".join(f"'{token}':{','.join(places)}" for token, places in positions.items())


@dataclass(frozen=True)
class Item:
    """One query word: a token, a phrase of bigrams, or a one-character prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False

    def fts(self) -> str:
        """The word in FTS5 query syntax."""
        phrase = '"' + " ".join(self.tokens) + '"'
        return phrase + " *" if self.prefix else phrase

    def tsquery(self, weight: str = "") -> str:
        """The word in tsquery syntax, limited to one weight when given."""
        if self.prefix:
            return f"'{self.tokens[0]}':*{weight}"
        parts = [f"'{token}'" + (f":{weight}" if weight else "") for token in self.tokens]
        return parts[0] if len(parts) == 1 else "(" + " <-> ".join(parts) + ")"


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def warm_up() -> None:
    """Load the segmentation dictionary now rather than on the first query."""
    _jieba()


def _cjk_pieces(run: str) -> list[tuple[str, bool]]:
    words = [w for w in _jieba().lcut(run) if w]
    pieces: list[tuple[str, bool]] = []
    pending = ""
    for word in words:
        if len(word) == 1 and word in _ZH_STOP:
            pieces.append((word, True))
        elif len(word) == 1 and pieces and not pieces[-1][1]:
            # A lone character is mostly a suffix (区, 桩, 站): keep it with its word.
            pieces[-1] = (pieces[-1][0] + word, False)
        elif len(word) == 1:
            pending += word
        else:
            pieces.append((pending + word, False))
            pending = ""
    if pending:
        pieces.append((pending, False))
    return pieces


def parse_query(q: str | None) -> list[Item]:
    """The words of a query; stop words only count when nothing else is asked."""
    if not q:
        return []
    found: list[tuple[Item, bool]] = []
    for run, word in _RUNS.findall(normalise(q)):
        if run:
            for piece, stop in _cjk_pieces(run):
                if len(piece) == 1:
                    found.append((Item((piece,), prefix=True), stop))
                else:
                    found.append((Item(tuple(piece[i : i + 2] for i in range(len(piece) - 1))), stop))
        else:
            folded = _fold(word)
            token = _word_token(folded) if folded else None
            if token:
                found.append((Item((token,)), folded in _EN_STOP))
    wanted = [item for item, stop in found if not stop] or [item for item, _ in found]
    return list(dict.fromkeys(wanted))


# ---------------------------------------------------------------- formats


_MEDIA_FORMATS = {
    "text/csv": "CSV",
    "application/json": "JSON",
    "application/ld+json": "JSON-LD",
    "application/geo+json": "GEOJSON",
    "application/vnd.ms-excel": "XLS",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "application/pdf": "PDF",
    "application/xml": "XML",
    "text/xml": "XML",
    "application/zip": "ZIP",
    "text/plain": "TXT",
    "text/html": "HTML",
    "text/turtle": "TTL",
    "application/rdf+xml": "RDF",
    "application/msword": "DOC",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
}


def normalise_format(value: str | None) -> str | None:
    """One spelling per format: ``csv``, ``.CSV`` and ``text/csv`` are all ``CSV``."""
    if not value:
        return None
    raw = value.strip().lower()
    if raw in _MEDIA_FORMATS:
        return _MEDIA_FORMATS[raw]
    if "/" in raw:
        raw = raw.rsplit("/", 1)[1].split(";")[0].split("+")[-1]
    raw = raw.lstrip(".").strip()
    cleaned = re.sub(r"[^0-9a-z_-]", "", raw).upper()[:40]
    return cleaned or None


def format_bits(session: Session, names: Iterable[str]) -> dict[str, int]:
    """The mask bit of each format name, allocating bits to formats seen for the first time."""
    wanted = sorted({n for n in names if n})
    if not wanted:
        return {}
    connection = session.connection()
    known = _known_formats(connection)
    missing = [n for n in wanted if n not in known]
    if missing:
        if connection.dialect.name == "postgresql":
            # Serialise allocation so two writers never hand one bit to two formats.
            connection.execute(text("SELECT pg_advisory_xact_lock(5005)"))
            known = _known_formats(connection)
        used = {bit for bit in known.values() if bit != OVERFLOW_BIT}
        free = (bit for bit in range(OVERFLOW_BIT) if bit not in used)
        for name in missing:
            if name in known:
                continue
            bit = next(free, OVERFLOW_BIT)
            connection.execute(
                text("INSERT INTO catalog_format (name, bit) VALUES (:name, :bit)"), {"name": name, "bit": bit}
            )
            known[name] = bit
    return {n: known[n] for n in wanted}


def _known_formats(connection: Connection) -> dict[str, int]:
    return {str(name): int(bit) for name, bit in connection.execute(text("SELECT name, bit FROM catalog_format"))}


# ---------------------------------------------------------------- writing the index


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

    def document_text(self) -> DocumentText:
        """The tokens of the dataset's text."""
        if self.text is None:
            self.text = document_text(self.title, self.title_en, self.keywords, self.description)
        return self.text


def document_text(title: str, title_en: str | None, keywords: Sequence[str], description: str) -> DocumentText:
    """The weighted tokens of a dataset: both titles, the keywords, the description."""
    return DocumentText.build(" ".join(filter(None, (title, title_en))), keywords, description)


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
    bits = format_bits(session, (f for d in docs for f in d.formats))
    rows: list[dict[str, Any]] = []
    for d in docs:
        theme_mask = 0
        for theme in d.themes:
            theme_mask |= THEME_BIT.get(theme, 0)
        format_mask = 0
        for name in d.formats:
            if name in bits:
                format_mask |= 1 << bits[name]
        rows.append(
            {
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
            }
        )
    table = DatasetSearch.__table__  # type: ignore[attr-defined]
    ids = [d.dataset_id for d in docs]
    existing = _docs_of(connection, ids)
    updates = [dict(row, doc=existing[row["dataset_id"]]) for row in rows if row["dataset_id"] in existing]
    inserts = [row for row in rows if row["dataset_id"] not in existing]
    if updates:
        connection.execute(
            text(
                "UPDATE dataset_search SET entity_id = :entity_id, state = :state, access = :access, "
                "registered = :registered, licence = :licence, theme_bits = :theme_bits, "
                "format_bits = :format_bits, year_start = :year_start, year_end = :year_end, "
                "title_key = :title_key, modified_key = :modified_key WHERE doc = :doc"
            ),
            updates,
        )
        old_docs = [u["doc"] for u in updates]
        for chunk in _chunks(old_docs, 500):
            params = {"docs": chunk}
            connection.execute(_expanding("DELETE FROM dataset_tag WHERE doc IN :docs", "docs"), params)
            # FTS5 keys its rows by rowid; PostgreSQL's table has a doc column.
            key = "rowid" if connection.dialect.name == "sqlite" else "doc"
            connection.execute(_expanding(f"DELETE FROM dataset_fts WHERE {key} IN :docs", "docs"), params)
    if inserts:
        bulk_insert(connection, table, inserts)
        existing.update(_docs_of(connection, [str(row["dataset_id"]) for row in inserts]))
    _bump_generation(connection)
    tag_rows = [{"tag": tag, "doc": existing[d.dataset_id]} for d in docs for tag in _tags(d.keywords)]
    if tag_rows:
        _executemany(
            connection, "INSERT INTO dataset_tag (tag, doc) VALUES (?, ?)", [(r["tag"], r["doc"]) for r in tag_rows]
        )
    texts = [(existing[d.dataset_id], d.document_text()) for d in docs]
    if connection.dialect.name == "sqlite":
        _executemany(
            connection,
            "INSERT INTO dataset_fts (rowid, title, keywords, description) VALUES (?, ?, ?, ?)",
            [(doc, *body.fts_row()) for doc, body in texts],
        )
    else:
        _executemany(
            connection,
            "INSERT INTO dataset_fts (doc, vector) VALUES (?, CAST(? AS tsvector))",
            [(doc, body.tsvector()) for doc, body in texts],
        )


def bulk_insert(connection: Connection, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows of a table through the driver's executemany, with each column's own type conversion.

    SQLAlchemy's executemany builds parameters row by row through its compiler; for the bulk import that costs
    more than the database's own work, so the column types' bind processors are applied here directly.
    """
    if not rows:
        return
    dialect = connection.dialect
    columns = [c for c in table.columns if c.name in rows[0]]
    processors = [c.type._cached_bind_processor(dialect) for c in columns]
    names = [c.name for c in columns]
    values = [
        tuple(row[n] if p is None or row[n] is None else p(row[n]) for n, p in zip(names, processors, strict=True))
        for row in rows
    ]
    marks = ", ".join("?" for _ in names)
    quoted = ", ".join(dialect.identifier_preparer.quote(n) for n in names)
    _executemany(connection, f"INSERT INTO {table.name} ({quoted}) VALUES ({marks})", values)


def _executemany(connection: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Plain-typed rows straight to the driver: the bulk path skips SQLAlchemy's per-row processing."""
    if connection.dialect.name != "sqlite":
        sql = sql.replace("?", "%s")
    connection.exec_driver_sql(sql, rows)


def _docs_of(connection: Connection, dataset_ids: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(list(dataset_ids), 500):
        statement = _expanding("SELECT dataset_id, doc FROM dataset_search WHERE dataset_id IN :ids", "ids")
        found.update({str(dataset_id): int(doc) for dataset_id, doc in connection.execute(statement, {"ids": chunk})})
    return found


def _expanding(sql: str, name: str) -> TextClause:
    """A text statement whose ``IN :name`` takes a list, expanded by SQLAlchemy into one parameter per value."""
    return text(sql).bindparams(bindparam(name, expanding=True))


def _chunks(values: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# ---------------------------------------------------------------- querying


SORTS = ("relevance", "newest", "title")


@dataclass(frozen=True)
class Viewer:
    """Whose eyes the search is for: the staff see every access level, members their entity's own."""

    staff: bool = False
    entity_id: str | None = None


@dataclass
class SearchQuery:
    """A search request, already validated for types."""

    q: str | None = None
    themes: Sequence[str] = ()
    publishers: Sequence[str] = ()
    formats: Sequence[str] = ()
    access: Sequence[str] = ()
    licences: Sequence[str] = ()
    tags: Sequence[str] = ()
    year_from: int | None = None
    year_to: int | None = None
    registered: bool | None = None
    state: str = "published"
    sort: str | None = None
    facets: Sequence[str] = ()
    facet_limit: int = 20
    limit: int = 20
    cursor: str | None = None
    offset: int | None = None
    viewer: Viewer = field(default_factory=Viewer)


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet field and how many results have it."""

    value: str
    count: int
    label: str | None = None


@dataclass
class SearchResult:
    """The ids of one page in order, the exact total, the next cursor and the facet counts."""

    ids: list[str]
    count: int
    next_cursor: str | None
    facets: dict[str, list[FacetValue]]
    scores: list[int] = field(default_factory=list)


class _Statement:
    """SQL fragments and their bound parameters, built for one engine."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.params: dict[str, Any] = {}
        self.where: list[str] = []

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def in_list(self, values: Iterable[Any]) -> str:
        return "(" + ", ".join(self.bind(v) for v in values) + ")"

    def binary(self, expression: str) -> str:
        """Compare strings by code point on both engines (PostgreSQL's default collation would not)."""
        return f'{expression} COLLATE "C"' if self.dialect == "postgresql" else expression


def _invalid(field_name: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field_name}: {message}", errors=[FieldProblem(field_name, message)])


def check_query(query: SearchQuery) -> None:
    """Refuse values no search can use, naming the field."""
    for theme in query.themes:
        if theme not in THEME_BIT:
            raise _invalid("theme", f"unknown theme {theme!r}")
    for level in query.access:
        if level not in Openness.__members__:
            raise _invalid("access", f"unknown access level {level!r}")
    for name in query.facets:
        if name not in FACETS:
            raise _invalid("facets", f"unknown facet {name!r}; known: {', '.join(FACETS)}")
    if query.sort is not None and query.sort not in SORTS:
        raise _invalid("sort", f"one of {', '.join(SORTS)}")
    if query.state not in ("draft", "published", "withdrawn"):
        raise _invalid("state", "one of draft, published, withdrawn")
    if query.year_from is not None and query.year_to is not None and query.year_from > query.year_to:
        raise _invalid("year_from", "after year_to")
    if not 1 <= query.limit <= 1000:
        raise _invalid("limit", "must be between 1 and 1000")


def search(session: Session, query: SearchQuery) -> SearchResult:
    """Run a search: one page of dataset ids, the exact count and the requested facets."""
    check_query(query)
    connection = session.connection()
    dialect = connection.dialect.name
    items = parse_query(query.q)
    sort = query.sort or ("relevance" if items else "newest")
    if sort == "relevance" and not items:
        sort = "newest"
    statement = _Statement(dialect)
    source = _source(statement, items)
    if not _filters(statement, connection, query):
        return SearchResult(ids=[], count=0, next_cursor=None, facets={name: [] for name in query.facets})
    where = " AND ".join(statement.where) or "1 = 1"
    key = (generation(connection), where, tuple(sorted(statement.params.items())))
    cache = _cache_of(connection)
    facets_key = ("facets", tuple(dict.fromkeys(query.facets)), query.facet_limit, *key)
    cached = cache.get(facets_key)
    if cached is None:
        cached = _count_and_facets(connection, statement, source, where, query)
        cache.put(facets_key, cached)
    count, facets = cached
    ids, scores, next_cursor = _page(connection, statement, source, where, items, sort, query, key)
    return SearchResult(ids=ids, count=count, next_cursor=next_cursor, facets=facets, scores=scores)


def _fts_expression(items: Sequence[Item]) -> str:
    return " AND ".join(item.fts() for item in items)


def _source(statement: _Statement, items: Sequence[Item]) -> str:
    if not items:
        return "dataset_search s"
    if statement.dialect == "sqlite":
        statement.where.append(f"dataset_fts MATCH {statement.bind(_fts_expression(items))}")
        # CROSS JOIN fixes the loop order: walk the full-text matches, look each search row up by key. Left
        # to itself the planner may scan the search rows and run the MATCH once per row instead.
        return "dataset_fts CROSS JOIN dataset_search s ON s.doc = dataset_fts.rowid"
    tsquery = " & ".join(item.tsquery() for item in items)
    statement.where.append(f"f.vector @@ CAST({statement.bind(tsquery)} AS tsquery)")
    return "dataset_fts f JOIN dataset_search s ON s.doc = f.doc"


def _filters(statement: _Statement, connection: Connection, query: SearchQuery) -> bool:
    """Add the WHERE terms; False when the filters can match nothing (an unknown format, say)."""
    add = statement.where.append
    bind = statement.bind
    viewer = query.viewer
    # Most rows are published: on SQLite a scan beats walking the (state, ...) index and looking every row up,
    # so the unary plus keeps the planner off that index for published searches (it still serves sorting).
    plus = "+" if statement.dialect == "sqlite" and query.state == "published" else ""
    add(f"{plus}s.state = {bind(query.state)}")
    if query.state != "published" and not viewer.staff:
        if viewer.entity_id is None:
            return False
        add(f"s.entity_id = {bind(viewer.entity_id)}")
    if not viewer.staff:
        if viewer.entity_id is None:
            add(f"s.access <> {bind(Openness.not_open.value)}")
        else:
            add(f"(s.access <> {bind(Openness.not_open.value)} OR s.entity_id = {bind(viewer.entity_id)})")
    if query.themes:
        mask = 0
        for theme in query.themes:
            mask |= THEME_BIT[theme]
        add(f"(s.theme_bits & {bind(mask)}) <> 0")
    if query.formats:
        wanted = {normalise_format(f) for f in query.formats} - {None}
        known = _known_formats(connection)
        mask = 0
        for name in wanted:
            if name in known:
                mask |= 1 << known[name]
        if not mask:
            return False
        add(f"(s.format_bits & {bind(mask)}) <> 0")
    if query.publishers:
        add(f"s.entity_id IN {statement.in_list(dict.fromkeys(query.publishers))}")
    if query.access:
        add(f"s.access IN {statement.in_list(dict.fromkeys(query.access))}")
    if query.licences:
        add(f"s.licence IN {statement.in_list(dict.fromkeys(query.licences))}")
    for tag in dict.fromkeys(query.tags):
        add(f"s.doc IN (SELECT doc FROM dataset_tag WHERE tag = {bind(tag)})")
    if query.year_from is not None:
        add(f"s.year_end >= {bind(query.year_from)}")
    if query.year_to is not None:
        add(f"s.year_start <= {bind(query.year_to)}")
    if query.registered is not None:
        add(f"s.registered = {bind(query.registered)}")
    return True


_FACET_SQL = {
    "publisher": "SELECT 'publisher' AS f, entity_id AS k, CAST(NULL AS BIGINT) AS v, count(*) AS n FROM m "
    "GROUP BY entity_id",
    "access": "SELECT 'access', access, CAST(NULL AS BIGINT), count(*) FROM m GROUP BY access",
    "licence": "SELECT 'licence', licence, CAST(NULL AS BIGINT), count(*) FROM m WHERE licence IS NOT NULL "
    "GROUP BY licence",
    "theme": "SELECT 'theme', CAST(NULL AS TEXT), theme_bits, count(*) FROM m GROUP BY theme_bits",
    "format": "SELECT 'format', CAST(NULL AS TEXT), format_bits, count(*) FROM m GROUP BY format_bits",
    "year": "SELECT 'year_start', CAST(NULL AS TEXT), CAST(year_start AS BIGINT), count(*) FROM m "
    "WHERE year_start IS NOT NULL GROUP BY year_start "
    "UNION ALL SELECT 'year_end', CAST(NULL AS TEXT), CAST(year_end AS BIGINT), count(*) FROM m "
    "WHERE year_end IS NOT NULL GROUP BY year_end",
    "tag": "SELECT 'tag', t.tag, CAST(NULL AS BIGINT), count(*) FROM m JOIN dataset_tag t ON t.doc = m.doc "
    "GROUP BY t.tag",
}


def _count_and_facets(
    connection: Connection, statement: _Statement, source: str, where: str, query: SearchQuery
) -> tuple[int, dict[str, list[FacetValue]]]:
    wanted = list(dict.fromkeys(query.facets))
    if not wanted:
        total = connection.execute(text(f"SELECT count(*) FROM {source} WHERE {where}"), statement.params)
        return int(total.scalar_one()), {}
    columns = "s.doc AS doc, s.entity_id AS entity_id, s.access AS access, s.licence AS licence, " + (
        "s.theme_bits AS theme_bits, s.format_bits AS format_bits, s.year_start AS year_start, s.year_end AS year_end"
    )
    parts = ["SELECT 'count' AS f, CAST(NULL AS TEXT) AS k, CAST(NULL AS BIGINT) AS v, count(*) AS n FROM m"]
    parts += [_FACET_SQL[name] for name in wanted]
    sql = f"WITH m AS MATERIALIZED (SELECT {columns} FROM {source} WHERE {where}) " + " UNION ALL ".join(parts)
    raw: dict[str, Counter[Any]] = {}
    count = 0
    for name, key, value, n in connection.execute(text(sql), statement.params):
        if name == "count":
            count = int(n)
        else:
            raw.setdefault(name, Counter())[key if key is not None else value] += int(n)
    facets: dict[str, list[FacetValue]] = {}
    for name in wanted:
        facets[name] = _facet_values(connection, name, raw, query.facet_limit)
    return count, facets


def _top(counter: Counter[str], limit: int) -> list[tuple[str, int]]:
    # Python compares strings by code point, as the SQL above does: equal counts break ties identically.
    ordered = sorted(((str(k), n) for k, n in counter.items() if n > 0), key=lambda kv: (-kv[1], kv[0]))
    return ordered[:limit]


def _expand_bits(counter: Counter[Any] | None, names: dict[int, str]) -> Counter[str]:
    expanded: Counter[str] = Counter()
    for mask, n in (counter or Counter()).items():
        mask = int(mask or 0)
        for bit, name in names.items():
            if mask & (1 << bit):
                expanded[name] += n
    return expanded


def _facet_values(connection: Connection, name: str, raw: dict[str, Counter[Any]], limit: int) -> list[FacetValue]:
    if name == "theme":
        theme_names = {index: theme.value for index, theme in enumerate(THEMES)}
        counted = _expand_bits(raw.get("theme"), theme_names)
        return [FacetValue(k, n, THEME_LABELS_ZH[Theme(k)]) for k, n in _top(counted, limit)]
    if name == "format":
        format_names: dict[int, str] = {}
        for format_name, bit in sorted(_known_formats(connection).items()):
            format_names.setdefault(bit, OVERFLOW_FORMAT if bit == OVERFLOW_BIT else format_name)
        return [FacetValue(k, n) for k, n in _top(_expand_bits(raw.get("format"), format_names), limit)]
    if name == "year":
        starts = raw.get("year_start", Counter())
        ends = raw.get("year_end", Counter())
        years: Counter[str] = Counter()
        if starts:
            # covering(y) = #(start <= y) - #(end < y): two small group-bys instead of one row per covered year.
            begun = ended = 0
            for year in range(int(min(starts)), int(max(ends or starts)) + 1):
                begun += starts.get(year, 0)
                years[str(year)] = begun - ended
                ended += ends.get(year, 0)
        return [FacetValue(k, n) for k, n in _top(years, limit)]
    top = _top(raw.get(name, Counter()), limit)
    if name == "publisher" and top:
        statement = _expanding("SELECT id, name FROM entity WHERE id IN :ids", "ids")
        labels: dict[str, str] = dict(connection.execute(statement, {"ids": [k for k, _ in top]}).all())
        return [FacetValue(k, n, labels.get(k)) for k, n in top]
    return [FacetValue(k, n) for k, n in top]


def _score_sql(statement: _Statement, items: Sequence[Item]) -> str:
    bind = statement.bind
    if statement.dialect == "sqlite":
        every_title = "{title} : (" + _fts_expression(items) + ")"
        return (
            f"(CASE WHEN dataset_fts.rowid IN (SELECT rowid FROM dataset_fts({bind(every_title)})) THEN 8 ELSE 0 END)"
            " + (CASE WHEN bm25(dataset_fts, 1.0, 0.0, 0.0) < 0 THEN 4 ELSE 0 END)"
            " + (CASE WHEN bm25(dataset_fts, 0.0, 1.0, 0.0) < 0 THEN 2 ELSE 0 END)"
            " + (CASE WHEN bm25(dataset_fts, 0.0, 0.0, 1.0) < 0 THEN 1 ELSE 0 END)"
        )
    every = " & ".join(item.tsquery("A") for item in items)
    terms = [f"(CASE WHEN f.vector @@ CAST({bind(every)} AS tsquery) THEN 8 ELSE 0 END)"]
    for weight, points in (("A", 4), ("B", 2), ("C", 1)):
        some = " | ".join(item.tsquery(weight) for item in items)
        terms.append(f"(CASE WHEN f.vector @@ CAST({bind(some)} AS tsquery) THEN {points} ELSE 0 END)")
    return " + ".join(terms)


def _page(
    connection: Connection,
    statement: _Statement,
    source: str,
    where: str,
    items: Sequence[Item],
    sort: str,
    query: SearchQuery,
    key: tuple[Any, ...],
) -> tuple[list[str], list[int], str | None]:
    cursor: tuple[Any, str] | None = None
    if query.cursor is not None:
        values = decode_cursor(query.cursor)
        last_key, last_id = values.get("k"), values.get("id")
        expected_type = str if sort == "title" else int
        if values.get("s") != sort or not isinstance(last_id, str) or not isinstance(last_key, expected_type):
            raise _invalid("cursor", "not a cursor of this search")
        cursor = (last_key, last_id)
    offset = query.offset or 0
    rows = _from_window(connection, statement, source, where, items, sort, query, key, cursor, offset)
    if rows is None:
        rows = _ranked(connection, statement, source, where, items, sort, cursor, query.limit + 1, offset)
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        if query.offset is None:
            next_cursor = encode_cursor({"s": sort, "k": rows[-1][1], "id": rows[-1][0]})
    ids = [str(row[0]) for row in rows]
    scores = [int(row[1]) for row in rows] if sort == "relevance" else []
    return ids, scores, next_cursor


def _from_window(
    connection: Connection,
    statement: _Statement,
    source: str,
    where: str,
    items: Sequence[Item],
    sort: str,
    query: SearchQuery,
    key: tuple[Any, ...],
    cursor: tuple[Any, str] | None,
    offset: int,
) -> list[tuple[str, Any]] | None:
    """The page from the cached first WINDOW results of this search, or None when it lies beyond them."""
    cache = _cache_of(connection)
    window_key = ("window", sort, *key)
    window = cache.get(window_key)
    if window is None:
        if cursor is not None or offset:
            return None  # a deep page of a search nobody has started here: straight to SQL
        found = _ranked(connection, statement, source, where, items, sort, None, WINDOW + 1, 0)
        window = (found[:WINDOW], len(found) <= WINDOW)
        cache.put(window_key, window)
    rows, complete = window
    start = offset
    if cursor is not None:
        descending = sort != "title"
        position = _position_after(rows, cursor, descending)
        if position is None:
            return None
        start = position + offset
    wanted = rows[start : start + query.limit + 1]
    if len(wanted) == query.limit + 1 or complete:
        return list(wanted)
    return None


def _position_after(rows: Sequence[tuple[str, Any]], cursor: tuple[Any, str], descending: bool) -> int | None:
    """Index of the first row after the cursor, if the window reaches past it."""
    last_key, last_id = cursor
    for index, (row_id, row_key) in enumerate(rows):
        after = (row_key, row_id) < (last_key, last_id) if descending else (row_key, row_id) > (last_key, last_id)
        if after:
            return index
    return None


def _ranked(
    connection: Connection,
    statement: _Statement,
    source: str,
    where: str,
    items: Sequence[Item],
    sort: str,
    cursor: tuple[Any, str] | None,
    limit: int,
    offset: int,
) -> list[tuple[str, Any]]:
    """Rows (id, sort key) in order, after the cursor, from the database."""
    params = dict(statement.params)
    scratch = _Statement(statement.dialect)
    scratch.params = params
    bind = scratch.bind
    if sort == "relevance":
        key, descending = _score_sql(scratch, items), True
    elif sort == "newest":
        key, descending = "s.modified_key", True
    else:
        key, descending = scratch.binary("s.title_key"), False
    after = ""
    if cursor is not None:
        op = "<" if descending else ">"
        k, i = bind(cursor[0]), bind(cursor[1])
        after = f" WHERE (r.k {op} {k} OR (r.k = {k} AND r.id {op} {i}))"
    direction = "DESC" if descending else "ASC"
    tail = f" LIMIT {bind(limit)}" + (f" OFFSET {bind(offset)}" if offset else "")
    sql = (
        f"SELECT r.id, r.k FROM (SELECT {scratch.binary('s.dataset_id')} AS id, {key} AS k "
        f"FROM {source} WHERE {where}) AS r{after} ORDER BY r.k {direction}, r.id {direction}{tail}"
    )
    return [(str(row[0]), row[1]) for row in connection.execute(text(sql), params)]


# ---------------------------------------------------------------- the result cache

# Searches repeat (the popular ones above all) and the catalog changes seldom: each process keeps the counts,
# facets and first results of recent searches, keyed by the catalog's generation, which every index write
# moves on. A cached answer is therefore exactly what the database would answer now.
WINDOW = 200
CACHE_SIZE = 512


class _Cache:
    """A small thread-safe LRU map."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Any:
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


def _cache_of(connection: Connection) -> _Cache:
    # One cache per connection pool, so that it lives and dies with the app's engine (and its option engines).
    pool = connection.engine.pool
    cache = pool.__dict__.get("_pdr_search_cache")
    if cache is None:
        cache = pool.__dict__.setdefault("_pdr_search_cache", _Cache(CACHE_SIZE))
    assert isinstance(cache, _Cache)
    return cache


def generation(connection: Connection) -> int:
    """How many times the search index has been written; a cached answer belongs to one generation."""
    row = connection.execute(text("SELECT position FROM catalog_sync WHERE name = 'generation'")).first()
    return int(row[0]) if row else 0


def _bump_generation(connection: Connection) -> None:
    moved = connection.execute(text("UPDATE catalog_sync SET position = position + 1 WHERE name = 'generation'"))
    if moved.rowcount == 0:  # the migration creates the row; this only guards a database that lost it
        connection.execute(text("INSERT INTO catalog_sync (name, position) VALUES ('generation', 1)"))
