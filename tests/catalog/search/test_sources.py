"""Where the mirror's words come from: full-text entries of an older token format are rewritten at start-up."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from catalog.search import index as search_index
from catalog.search import sources as search_sources
from catalog.search import startup as search_startup
from catalog.search.mirror import drop_mirror
from catalog.search.tokens import SPELLING, DocumentText
from storage.db import session_scope
from tests.catalog.search import labelled


def _written_in_format_1(engine: Engine) -> None:
    """Rewrite every full-text entry as format 1 wrote it (no spellings), and record format 1."""
    with session_scope(engine) as session:
        connection = session.connection()
        docs = [int(d) for d in connection.execute(text("SELECT doc FROM dataset_search")).scalars()]
        old = [
            (doc, DocumentText(*([t for t in field if not t.startswith(SPELLING)] for field in fields)))
            for doc, fields in search_sources._tokens_of(connection, docs).items()
        ]
        search_index.rewrite_full_text(connection, old, search_index.next_generation(connection))
        search_index.set_text_format(connection, 1)
        session.commit()


def test_entries_of_an_older_token_format_are_rewritten_when_the_service_prepares(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = labelled.load(engine)
    expected = labelled.answers(engine, ids)
    with session_scope(engine) as session:
        assert search_index.text_format(session.connection()) == search_index.TEXT_FORMAT
    _written_in_format_1(engine)
    drop_mirror(engine)
    stale = labelled.answers(engine, ids)
    assert stale["parking"] != expected["parking"]  # without spellings, parks and parking tie
    monkeypatch.setattr(search_sources, "REFRESH_CHUNK", 7)  # several chunks
    search_sources.prepare(engine)  # the mirror built before follows the rewrite
    with session_scope(engine) as session:
        assert search_index.text_format(session.connection()) == search_index.TEXT_FORMAT
    assert labelled.answers(engine, ids) == expected
    assert search_sources.refresh_text(engine) == 0  # nothing left to rewrite


def test_the_dictionary_is_loaded_at_start_up_only_for_a_catalog_with_datasets(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[int] = []
    monkeypatch.setattr(search_sources, "warm_up", lambda: loads.append(1))
    search_startup.prepare_if_any(engine)
    assert loads == []  # an empty catalog: no worker pays for the dictionary until a dataset is written
    labelled.load(engine)
    drop_mirror(engine)
    search_startup.prepare_if_any(engine)
    assert loads == [1]
