# ruff: noqa: S608 - SQL here is assembled from fixed fragments; every value travels as a bound parameter.
"""Where the search mirror's word sets come from: the full-text index (FTS5 or a tsvector), and the tokens of
changed documents for patching them; and the start-up build of the mirror."""

from __future__ import annotations

import logging
from collections.abc import Hashable
from functools import partial

import numpy as np
from sqlalchemy import JSON, Integer, bindparam, column, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from catalog.search import shared_words
from catalog.search.index import (
    TEXT_FORMAT,
    generation,
    next_generation,
    rewrite_full_text,
    set_text_format,
    text_format,
)
from catalog.search.mirror import (
    FIELDS,
    FieldTokens,
    Mirror,
    WordSets,
    bitset,
    item_matches,
    mirror_of,
)
from catalog.search.tokens import DocumentText, Item, document_text, warm_up
from storage.db import session_scope
from storage.statements import chunked

log = logging.getLogger("pdr.search")


def prepare(engine: Engine) -> None:
    """Load the segmentation dictionary, rewrite full-text entries of an older token format, and build the search
    mirror, so that no request waits for them."""
    try:
        warm_up()
        rewritten = refresh_text(engine)
        if rewritten:
            log.info("search index: %s full-text entries rewritten in token format %s", rewritten, TEXT_FORMAT)
        with session_scope(engine, write=False) as session:
            connection = session.connection()
            mirror = mirror_of(connection, new_mirror)
            with mirror.reading(connection, generation(connection)):
                log.info("search mirror ready at generation %s", mirror.generation)
    except SQLAlchemyError as exc:  # a database not migrated yet, say: the first search will build it
        log.warning("search mirror not prepared: %s", type(exc).__name__)


# Documents whose full-text entries are rewritten per transaction when the token format changes.
REFRESH_CHUNK = 2000
_NEXT_DOCS = text("SELECT doc FROM dataset_search WHERE doc > :after ORDER BY doc LIMIT :n")


def refresh_text(engine: Engine) -> int:
    """Rewrite, a chunk per transaction, the full-text entries written in an older token format; returns how many."""
    rewritten, after = 0, 0
    while True:
        with session_scope(engine) as session:
            connection = session.connection()
            if text_format(connection) >= TEXT_FORMAT:
                return rewritten
            docs = [int(d) for d in connection.execute(_NEXT_DOCS, {"after": after, "n": REFRESH_CHUNK}).scalars()]
            if docs:
                # The generation first: index writers queue behind it, so no text read here is overtaken.
                seq = next_generation(connection)
                tokens = _tokens_of(connection, docs)
                rewrite_full_text(connection, [(doc, DocumentText(*map(list, t))) for doc, t in tokens.items()], seq)
            else:
                set_text_format(connection, TEXT_FORMAT)
            session.commit()
        rewritten += len(docs)
        if not docs:
            return rewritten
        after = docs[-1]


def new_mirror() -> Mirror:
    """An empty mirror whose word sets come from the full-text index."""
    return Mirror(load_word=_load_word, word_matches=_word_matches, tokens_of=_tokens_of)


def _load_word(connection: Connection, key: Hashable, generation: int | None) -> WordSets:
    """Which documents hold a query word, per field: as another process stored them when they are to be kept at
    `generation`, else from the full-text index (and then stored for the others)."""
    assert isinstance(key, Item)
    if generation is None:
        return _from_full_text(connection, key)
    # Sets read from entries of another token format would be patched with tokens of this one: never mixed.
    word = f"{text_format(connection)} {key.fts()}"
    stored = shared_words.read(connection, word, generation, _tokens_of, partial(_word_matches, key))
    if stored is not None:
        sets, was_patched = stored
        if was_patched:
            shared_words.keep(connection.engine, word, generation, sets)
        return sets
    sets = _from_full_text(connection, key)
    shared_words.keep(connection.engine, word, generation, sets)
    return sets


def _from_full_text(connection: Connection, key: Item) -> WordSets:
    """Which documents hold a query word, per field, asked of the full-text index.

    The documents cross from the database as comma-separated strings rather than a row each: twice as fast.
    """
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


# The text of the datasets behind search rows, as the index was built from it. The search index reads the
# dataset table by name (it is the index of that table), not through the datasets package, which builds on it.
_DOCUMENT_TEXT = (
    text(
        "SELECT s.doc, d.title, d.title_en, d.keywords, d.description FROM dataset_search s "
        "JOIN dataset d ON d.id = s.dataset_id WHERE s.doc IN :docs"
    )
    .bindparams(bindparam("docs", expanding=True))
    .columns(
        column("doc", Integer), column("title"), column("title_en"), column("keywords", JSON), column("description")
    )
)


def _tokens_of(connection: Connection, docs: list[int]) -> dict[int, FieldTokens]:
    """The indexed tokens of documents, recomputed from their datasets exactly as they were indexed."""
    found: dict[int, FieldTokens] = {}
    for chunk in chunked(docs, 500):
        for doc, title, title_en, keywords, description in connection.execute(_DOCUMENT_TEXT, {"docs": chunk}):
            body = document_text(title, title_en, keywords, description)
            found[doc] = (body.title, body.keywords, body.description)
    return found
