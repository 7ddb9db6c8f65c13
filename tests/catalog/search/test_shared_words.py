"""Word sets shared between processes: a second process reads what the first asked of the full-text index, patched
forward from the documents rewritten since, and asks the index again only when too many were; the table stays
bounded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from catalog.search import shared_words
from catalog.search.mirror import drop_mirror
from storage.db import DatabaseSettings, make_engine, session_scope
from tests.catalog.search import labelled
from tests.support.catalog import load_packages
from tests.support.statements import statements

WORDS = ["停车场", "parking", "公交站点", "城市公园"]


def _full_text_reads(seen: list[str]) -> list[str]:
    return [statement for statement in seen if "dataset_fts" in statement]


def _answers(engine: Engine, ids: dict[str, str]) -> dict[str, list[str]]:
    found = labelled.answers(engine, ids)
    return {q: found[q] for q in WORDS}


@pytest.fixture
def second(engine: Engine) -> Iterator[Engine]:
    """Another engine on the same database: its own pool, so its own mirror, as another process has."""
    other = make_engine(DatabaseSettings(database_url=engine.url.render_as_string(hide_password=False)))
    yield other
    other.dispose()


def _stored(engine: Engine) -> dict[str, int]:
    with session_scope(engine, write=False) as session:
        rows = session.connection().execute(text("SELECT word, generation FROM search_word_set"))
        return {str(word): int(generation) for word, generation in rows}


def test_a_second_process_reads_the_sets_the_first_asked_of_the_index(engine: Engine, second: Engine) -> None:
    ids = labelled.load(engine)
    first = _answers(engine, ids)
    shared_words.wait_stored()
    assert len(_stored(engine)) >= len(WORDS)
    with statements(second) as seen:
        assert _answers(second, ids) == first
    assert _full_text_reads(seen) == []


def test_stored_sets_are_patched_forward_from_the_documents_rewritten_since(engine: Engine, second: Engine) -> None:
    ids = labelled.load(engine)
    _answers(engine, ids)
    shared_words.wait_stored()
    before = _stored(engine)
    # Two datasets rewritten: one loses its words, one gains "停车场" and "parking".
    docs = labelled.corpus()
    changed = [
        labelled.package(
            {**docs[0], "title": "无关的标题", "title_en": "Unrelated", "keywords": [], "description": "无"}, 0
        ),
        labelled.package({**docs[1], "title": "越秀区停车场", "title_en": "Yuexiu parking lots"}, 1),
    ]
    load_packages(engine, changed)
    drop_mirror(engine)
    with statements(second) as seen:
        patched = _answers(second, ids)
    assert _full_text_reads(seen) == []
    # The same as asking the index afresh, with nothing stored (the patched sets being stored are let land first).
    shared_words.wait_stored()
    with session_scope(engine) as session:
        session.connection().execute(text("DELETE FROM search_word_set"))
        session.commit()
    drop_mirror(second)
    with statements(second) as seen:
        assert _answers(second, ids) == patched
    assert _full_text_reads(seen) != []
    assert max(_stored(engine).values()) > max(before.values())


def test_too_many_documents_rewritten_since_ask_the_index_again(
    engine: Engine, second: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = labelled.load(engine)
    _answers(engine, ids)
    shared_words.wait_stored()
    docs = labelled.corpus()
    load_packages(engine, [labelled.package({**docs[0], "title": "越秀区停车场"}, 0)])
    monkeypatch.setattr(shared_words, "PATCH_LIMIT", 0)
    with statements(second) as seen:
        _answers(second, ids)
    assert _full_text_reads(seen) != []


def test_the_table_keeps_the_newest_words_only(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = labelled.load(engine)
    monkeypatch.setattr(shared_words, "MAX_WORDS", 2)
    monkeypatch.setattr(shared_words, "PRUNE_EVERY", 1)
    _answers(engine, ids)
    shared_words.wait_stored()
    assert len(_stored(engine)) == 2
