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
* Relevance is an integer: 8 if every word is in the title, +4 if some word is in the title, +2 in the
  keywords, +1 in the description. Ties are broken by document number, newest first, so the order is total.
* Each process evaluates searches over its mirror of the index (``catalog.search_mirror``): the compact row
  per dataset (``dataset_search``: publisher, access, themes and formats as bit masks, coverage years, ...) as
  arrays, and each query word's documents per field as bitsets, asked of FTS5 or the tsvector index the first
  time the word is searched. Filters, exact counts, facets and the ordering of a million matches are then a
  few array operations; the database remains the source of truth and the mirror follows its generations.
"""

from __future__ import annotations

import logging
import operator
import re
import unicodedata
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, reduce
from typing import Any

import numpy as np
from sqlalchemy import select as sa_select
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col

from catalog.models import DatasetSearch
from catalog.search_mirror import (
    FIELDS,
    NO_YEAR,
    Codes,
    FieldTokens,
    Mirror,
    WordSets,
    bitset,
    flags_of,
    item_matches,
    mirror_of,
)
from registry.enums import THEME_LABELS_ZH, Openness, Theme
from storage.db import session_scope
from storage.exceptions import FieldProblem, InvalidInput
from storage.pagination import decode_cursor, encode_cursor
from storage.statements import chunked, expanding, for_driver

log = logging.getLogger("pdr.search")

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

    def fields(self) -> tuple[list[str], list[str], list[str]]:
        """The title, keyword and description tokens."""
        return self.title, self.keywords, self.description

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
    # First, so that on PostgreSQL concurrent index writers queue here and stamp their rows in commit order.
    seq = _next_generation(connection)
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
                "seq": seq,
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
                "title_key = :title_key, modified_key = :modified_key, seq = :seq WHERE doc = :doc"
            ),
            updates,
        )
        old_docs = [u["doc"] for u in updates]
        for chunk in chunked(old_docs, 500):
            params = {"docs": chunk}
            connection.execute(expanding("DELETE FROM dataset_tag WHERE doc IN :docs", "docs"), params)
            # FTS5 keys its rows by rowid; PostgreSQL's table has a doc column.
            key = "rowid" if connection.dialect.name == "sqlite" else "doc"
            connection.execute(expanding(f"DELETE FROM dataset_fts WHERE {key} IN :docs", "docs"), params)
    if inserts:
        bulk_insert(connection, table, inserts)
        existing.update(_docs_of(connection, [str(row["dataset_id"]) for row in inserts]))
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
    names = [c.name for c in columns]
    row_values = operator.itemgetter(*names)
    values = [row_values(row) for row in rows] if len(names) > 1 else [(row[names[0]],) for row in rows]
    # Column by column, and only the columns whose type converts values (JSON, times): most pass as they are.
    converters = [(i, c.type._cached_bind_processor(dialect)) for i, c in enumerate(columns)]
    converting = [(i, p) for i, p in converters if p is not None]
    if converting:
        transposed = [list(column) for column in zip(*values, strict=True)]
        for i, process in converting:
            transposed[i] = [None if v is None else process(v) for v in transposed[i]]
        values = list(zip(*transposed, strict=True))
    marks = ", ".join("?" for _ in names)
    quoted = ", ".join(dialect.identifier_preparer.quote(n) for n in names)
    _executemany(connection, f"INSERT INTO {table.name} ({quoted}) VALUES ({marks})", values)


def _executemany(connection: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Plain-typed rows straight to the driver: the bulk path skips SQLAlchemy's per-row processing."""
    connection.exec_driver_sql(for_driver(connection, sql), rows)


def _docs_of(connection: Connection, dataset_ids: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in chunked(list(dataset_ids), 500):
        statement = expanding("SELECT dataset_id, doc FROM dataset_search WHERE dataset_id IN :ids", "ids")
        found.update({str(dataset_id): int(doc) for dataset_id, doc in connection.execute(statement, {"ids": chunk})})
    return found


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
    items = parse_query(query.q)
    sort = query.sort or ("relevance" if items else "newest")
    if sort == "relevance" and not items:
        sort = "newest"
    cursor = _cursor(query.cursor, sort)
    mirror = mirror_of(connection, _new_mirror)
    with mirror.reading(connection, generation(connection)) as m:
        words = [m.word(connection, item) for item in items]
        chosen = _chosen(m, connection, query, words)
        docs = np.flatnonzero(chosen)
        facets = {
            name: _facet(m, connection, name, docs, chosen, query.facet_limit) for name in dict.fromkeys(query.facets)
        }
        need = (query.offset or 0) + query.limit + 1
        if sort == "relevance":
            rows = _by_relevance(m, words, docs, cursor, need)
        elif sort == "newest":
            rows = _by_newest(m, docs, cursor, need)
        else:
            rows = _by_title(connection, query.state, chosen, docs, cursor, need)
    rows = rows[query.offset or 0 :]
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        if query.offset is None:
            next_cursor = encode_cursor({"s": sort, "k": rows[-1][1], "d": rows[-1][0]})
    # A dataset the mirror knows but this transaction cannot see yet (it began before the write) is left out.
    known = _dataset_ids(connection, [doc for doc, _ in rows])
    rows = [(doc, key) for doc, key in rows if doc in known]
    scores = [int(key) for _, key in rows] if sort == "relevance" else []
    ids = [known[doc] for doc, _ in rows]
    return SearchResult(ids=ids, count=len(docs), next_cursor=next_cursor, facets=facets, scores=scores)


def _cursor(value: str | None, sort: str) -> tuple[Any, int] | None:
    """The (sort key, document) a page starts after."""
    if value is None:
        return None
    values = decode_cursor(value)
    key, doc = values.get("k"), values.get("d")
    expected = str if sort == "title" else int
    if values.get("s") != sort or type(doc) is not int or type(key) is not expected:
        raise _invalid("cursor", "not a cursor of this search")
    return key, doc


def _dataset_ids(connection: Connection, docs: list[int]) -> dict[int, str]:
    if not docs:
        return {}
    statement = expanding("SELECT doc, dataset_id FROM dataset_search WHERE doc IN :docs", "docs")
    return {int(doc): str(dataset_id) for doc, dataset_id in connection.execute(statement, {"docs": docs})}


# ---------------------------------------------------------------- the mirror's sources


def prepare(engine: Engine) -> None:
    """Load the segmentation dictionary and build the search mirror, so that no request waits for them."""
    warm_up()
    try:
        with session_scope(engine, write=False) as session:
            connection = session.connection()
            mirror = mirror_of(connection, _new_mirror)
            with mirror.reading(connection, generation(connection)):
                log.info("search mirror ready at generation %s", mirror.generation)
    except SQLAlchemyError as exc:  # a database not migrated yet, say: the first search will build it
        log.warning("search mirror not prepared: %s", type(exc).__name__)


def _new_mirror() -> Mirror:
    return Mirror(load_word=_load_word, word_matches=_word_matches, tokens_of=_tokens_of)


def _load_word(connection: Connection, key: Hashable) -> WordSets:
    """Which documents hold a query word, per field, from the full-text index.

    The documents cross from the database as comma-separated strings rather than a row each: twice as fast.
    """
    assert isinstance(key, Item)
    if connection.dialect.name == "sqlite":
        sql = "SELECT group_concat(rowid) FROM dataset_fts WHERE dataset_fts MATCH :q"
        joined = [connection.execute(text(sql), {"q": f"{{{name}}} : {key.fts()}"}).scalar() for name in FIELDS]
    else:
        # One pass over the word's documents tests the three weights; three weighted queries would each make
        # PostgreSQL re-read every candidate's vector, since its GIN index knows no weights.
        per_field = ", ".join(
            f"string_agg(CAST(doc AS text), ',') FILTER (WHERE vector @@ CAST(:{w} AS tsquery))" for w in "ABC"
        )
        sql = f"SELECT {per_field} FROM dataset_fts WHERE vector @@ CAST(:any AS tsquery)"
        params = {w: key.tsquery(w) for w in "ABC"} | {"any": key.tsquery()}
        joined = list(connection.execute(text(sql), params).one())
    title, keywords, description = (bitset(np.fromstring(value or "", dtype=np.int64, sep=",")) for value in joined)
    return title, keywords, description


def _word_matches(key: Hashable, tokens: FieldTokens) -> tuple[bool, bool, bool]:
    assert isinstance(key, Item)
    title, keywords, description = (item_matches(key.tokens, key.prefix, field) for field in tokens)
    return title, keywords, description


def _tokens_of(connection: Connection, docs: list[int]) -> dict[int, FieldTokens]:
    """The indexed tokens of documents, recomputed from their datasets exactly as they were indexed."""
    from catalog.models import Dataset

    found: dict[int, FieldTokens] = {}
    for chunk in chunked(docs, 500):
        statement = (
            sa_select(
                col(DatasetSearch.doc), col(Dataset.title), col(Dataset.title_en), col(Dataset.keywords),
                col(Dataset.description),
            )
            .join(Dataset, col(Dataset.id) == col(DatasetSearch.dataset_id))
            .where(col(DatasetSearch.doc).in_(chunk))
        )  # fmt: skip
        for doc, title, title_en, keywords, description in connection.execute(statement):
            body = document_text(title, title_en, keywords, description)
            assert doc is not None  # a primary key
            found[doc] = (body.title, body.keywords, body.description)
    return found


# ---------------------------------------------------------------- choosing, counting, ordering


def _chosen(m: Mirror, connection: Connection, query: SearchQuery, words: Sequence[WordSets]) -> np.ndarray:
    """The documents the search finds, as a boolean array over document numbers."""
    nothing = np.zeros(m.size, dtype=bool)
    state = m.state.index.get(query.state)
    if state is None:
        return nothing
    chosen = m["present"] & (m["state"] == state)
    viewer = query.viewer
    own = m.entity.index.get(viewer.entity_id) if viewer.entity_id else None
    if query.state != "published" and not viewer.staff:
        if own is None:
            return nothing
        chosen &= m["entity"] == own
    closed = m.access.index.get(Openness.not_open.value)
    if not viewer.staff and closed is not None:
        hidden = m["access"] == closed
        if own is not None:
            hidden &= m["entity"] != own
        chosen &= ~hidden
    if query.themes:
        themes = 0
        for theme in query.themes:
            themes |= THEME_BIT[theme]
        chosen &= m.themes.table(lambda mask: bool(mask & themes))[m["themes"]]
    if query.formats:
        known = _known_formats(connection)
        wanted = {normalise_format(f) for f in query.formats}
        formats = 0
        for name in wanted:
            if name in known:
                formats |= 1 << known[name]
        if not formats:
            return nothing
        chosen &= m.formats.table(lambda mask: bool(mask & formats))[m["formats"]]
    for column, codes, values in (
        ("entity", m.entity, query.publishers),
        ("access", m.access, query.access),
        ("licence", m.licence, query.licences),
    ):
        if values:
            chosen &= np.isin(m[column], codes.known(values))
    for tag in dict.fromkeys(query.tags):
        chosen &= m.with_tag(connection, tag)
    if query.year_from is not None:
        chosen &= (m["year_end"] != NO_YEAR) & (m["year_end"] >= query.year_from)
    if query.year_to is not None:
        chosen &= (m["year_start"] != NO_YEAR) & (m["year_start"] <= query.year_to)
    if query.registered is not None:
        chosen &= m["registered"] == query.registered
    if words:
        matched = reduce(operator.and_, (title | keywords | description for title, keywords, description in words))
        chosen &= flags_of(matched, m.size)
    return np.asarray(chosen, dtype=bool)


def _counted(codes: Codes, column: np.ndarray) -> Counter[Any]:
    """How many times each value occurs in a column of codes."""
    counts = np.bincount(column, minlength=len(codes.values))
    return Counter({codes.values[code]: int(counts[code]) for code in np.flatnonzero(counts)})


def _top(counter: Counter[str], limit: int) -> list[tuple[str, int]]:
    # Most frequent first; equal counts by value, compared by code point.
    ordered = sorted(((str(k), n) for k, n in counter.items() if n > 0), key=lambda kv: (-kv[1], kv[0]))
    return ordered[:limit]


def _expand_bits(counter: Counter[Any], names: dict[int, str]) -> Counter[str]:
    expanded: Counter[str] = Counter()
    for mask, n in counter.items():
        for bit, name in names.items():
            if int(mask) & (1 << bit):
                expanded[name] += n
    return expanded


def _facet(
    m: Mirror, connection: Connection, name: str, docs: np.ndarray, chosen: np.ndarray, limit: int
) -> list[FacetValue]:
    """One facet's most frequent values among the chosen documents."""
    if name == "theme":
        counted = _expand_bits(_counted(m.themes, m["themes"][docs]), dict(enumerate(t.value for t in THEMES)))
        return [FacetValue(k, n, THEME_LABELS_ZH[Theme(k)]) for k, n in _top(counted, limit)]
    if name == "format":
        names: dict[int, str] = {}
        for format_name, bit in sorted(_known_formats(connection).items()):
            names.setdefault(bit, OVERFLOW_FORMAT if bit == OVERFLOW_BIT else format_name)
        return [FacetValue(k, n) for k, n in _top(_expand_bits(_counted(m.formats, m["formats"][docs]), names), limit)]
    if name == "year":
        return [FacetValue(k, n) for k, n in _top(_years(m["year_start"][docs], m["year_end"][docs]), limit)]
    if name == "tag":
        tag_docs, tag_codes = m.tag_pairs(connection)
        inside = np.zeros(len(tag_docs), dtype=bool)
        known = tag_docs < len(chosen)
        inside[known] = chosen[tag_docs[known]]
        return [FacetValue(k, n) for k, n in _top(_counted(m.tags, tag_codes[inside]), limit)]
    column, codes = {"publisher": ("entity", m.entity), "access": ("access", m.access)}.get(
        name, ("licence", m.licence)
    )
    top = _top(Counter({k: n for k, n in _counted(codes, m[column][docs]).items() if k is not None}), limit)
    if name == "publisher" and top:
        statement = expanding("SELECT id, name FROM entity WHERE id IN :ids", "ids")
        labels: dict[str, str] = dict(connection.execute(statement, {"ids": [k for k, _ in top]}).all())
        return [FacetValue(k, n, labels.get(k)) for k, n in top]
    return [FacetValue(k, n) for k, n in top]


def _years(starts: np.ndarray, ends: np.ndarray) -> Counter[str]:
    """How many documents cover each year: covering(y) = #(start <= y) - #(end < y)."""
    begun = np.bincount(starts[starts != NO_YEAR])
    finished = np.bincount(ends[ends != NO_YEAR])
    years: Counter[str] = Counter()
    if not begun.any():
        return years
    first = int(np.flatnonzero(begun)[0])
    last = max(len(begun), len(finished)) - 1
    covering = 0
    for year in range(first, last + 1):
        covering += int(begun[year]) if year < len(begun) else 0
        years[str(year)] = covering
        covering -= int(finished[year]) if year < len(finished) else 0
    return years


def _largest(keys: np.ndarray, need: int) -> np.ndarray:
    """The positions of the largest keys, largest first (keys are distinct)."""
    cut = len(keys) - need
    positions = np.argpartition(keys, cut)[cut:] if cut > 0 else np.arange(len(keys))
    return positions[np.argsort(keys[positions])[::-1]]


def _by_relevance(
    m: Mirror, words: Sequence[WordSets], docs: np.ndarray, cursor: tuple[Any, int] | None, need: int
) -> list[tuple[int, Any]]:
    """(document, score) rows, best first; equal scores newest document first."""
    size = m.size
    every_title = reduce(operator.and_, (w[0] for w in words))
    some = [reduce(operator.or_, (w[field] for w in words)) for field in range(3)]
    score = (
        flags_of(every_title, size)[docs].astype(np.int64) * 8
        + flags_of(some[0], size)[docs] * 4
        + flags_of(some[1], size)[docs] * 2
        + flags_of(some[2], size)[docs]
    )
    # One distinct integer per row: the score above the document number.
    keys = (score << 32) | docs
    if cursor is not None:
        keys = keys[keys < ((int(cursor[0]) << 32) | cursor[1])]
    return [(int(key) & 0xFFFFFFFF, int(key) >> 32) for key in keys[_largest(keys, need)]]


def _by_newest(m: Mirror, docs: np.ndarray, cursor: tuple[Any, int] | None, need: int) -> list[tuple[int, Any]]:
    """(document, modified key) rows, newest first; equal times newest document first."""
    modified = m["modified"][docs]
    if cursor is not None:
        after = (modified < cursor[0]) | ((modified == cursor[0]) & (docs < cursor[1]))
        modified, docs = modified[after], docs[after]
    if len(modified) > need:
        threshold = np.partition(modified, len(modified) - need)[len(modified) - need]
        within = modified >= threshold
        modified, docs = modified[within], docs[within]
    order = np.lexsort((docs, modified))[::-1][:need]
    return [(int(docs[i]), int(modified[i])) for i in order]


# Up to this many results, title order sorts their keys; beyond, it walks the title index and keeps the chosen.
TITLE_FETCH = 5000


def _by_title(
    connection: Connection,
    state: str,
    chosen: np.ndarray,
    docs: np.ndarray,
    cursor: tuple[Any, int] | None,
    need: int,
) -> list[tuple[int, Any]]:
    """(document, title key) rows in title order (by code point), equal titles oldest document first."""
    if len(docs) <= TITLE_FETCH:
        statement = expanding("SELECT doc, title_key FROM dataset_search WHERE doc IN :docs", "docs")
        rows = [
            (str(key), int(doc))
            for chunk in chunked([int(d) for d in docs], 1000)
            for doc, key in connection.execute(statement, {"docs": chunk})
        ]
        ordered = sorted(row for row in rows if cursor is None or row > cursor)
        return [(doc, key) for key, doc in ordered[:need]]
    title = 'title_key COLLATE "C"' if connection.dialect.name == "postgresql" else "title_key"
    found: list[tuple[int, Any]] = []
    batch = 256
    while len(found) < need:
        after = "" if cursor is None else f" AND ({title}, doc) > (:k, :d)"
        sql = f"SELECT doc, title_key FROM dataset_search WHERE state = :s{after} ORDER BY {title}, doc LIMIT :n"
        params: dict[str, Any] = {"s": state, "n": batch}
        if cursor is not None:
            params |= {"k": cursor[0], "d": cursor[1]}
        walked = [(int(doc), str(key)) for doc, key in connection.execute(text(sql), params)]
        found += [(doc, key) for doc, key in walked if doc < len(chosen) and chosen[doc]]
        if len(walked) < batch:
            break
        cursor = (walked[-1][1], walked[-1][0])
        batch = min(batch * 4, 20_000)
    return found[:need]


# ---------------------------------------------------------------- generations


def generation(connection: Connection) -> int:
    """How many times the search index has been written; the mirror follows the rows each write stamps."""
    row = connection.execute(text("SELECT position FROM catalog_sync WHERE name = 'generation'")).first()
    return int(row[0]) if row else 0


def _next_generation(connection: Connection) -> int:
    """Move the generation on (on PostgreSQL this also orders concurrent index writers) and return it."""
    moved = connection.execute(
        text("UPDATE catalog_sync SET position = position + 1 WHERE name = 'generation' RETURNING position")
    ).first()
    if moved is not None:
        return int(moved[0])
    # The migration creates the row; this only guards a database that lost it.
    connection.execute(text("INSERT INTO catalog_sync (name, position) VALUES ('generation', 1)"))
    return 1
