"""Search: Chinese, English and mixed queries checked against an independent oracle, ranking, filters, exact
facets, cursor pages under concurrent inserts, and the same answers on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import snowballstemmer
from sqlalchemy import Engine
from sqlmodel import select

from catalog.interop import writer
from catalog.search import index as search_index
from catalog.search import mirror as search_mirror
from catalog.search import ordering as search_ordering
from catalog.search import query as search_query
from catalog.search import sources as search_sources
from catalog.search.mirror import drop_mirror
from catalog.search.query import SearchQuery, Viewer
from catalog.search.service import search as run_search
from catalog.search.tokens import SPELLING, Item, Word, parse_query
from storage import migrate
from storage.db import DatabaseSettings, make_engine, session_scope
from tests.support.catalog import add_entities, load_packages
from tests.support.env import POSTGRES_URL

PUBLISHERS = ["pub-a", "pub-b", "pub-c"]
DISTRICTS = [("天河区", "Tianhe"), ("海珠区", "Haizhu"), ("番禺区", "Panyu")]
SUBJECTS = [
    ("公共充电桩", "public charging piles", "intelligent_vehicles", "充电桩"),
    ("停车场", "parking lots", "intelligent_vehicles", "停车场"),
    ("空气质量监测", "air quality monitoring", "public_services", "空气质量"),
    ("医疗机构", "medical institutions", "biomedicine_health", "医院"),
    ("无人机起降点", "drone landing sites", "unmanned_systems", "无人机"),
]
FORMATS = ["CSV", "JSON", "XLSX", "API"]
QUERIES = [
    "充电桩",
    "天河区 充电桩",
    "天河区充电桩",
    "停车",
    "停车场",
    "桩",
    "空气质量",
    "parking",
    "Parking Lots",
    "charging",
    "air quality",
    "Tianhe parking",
    "Tianhe 充电桩",
    "PM2.5",
    "数据",
    "医院 drone",
    "不存在的词",
    "充电站",
    "停车位",
    "空气质量监测站",
    "parks",
    "Tianhe parks",
]


def corpus(n: int = 60, seed: int = 4) -> list[dict[str, Any]]:
    """Bilingual CKAN packages where query words sit in titles, keywords or descriptions only."""
    rng = random.Random(seed)
    packages = []
    for i in range(n):
        district, district_en = DISTRICTS[i % 3]
        subject, subject_en, theme, keyword = SUBJECTS[rng.randrange(len(SUBJECTS))]
        other = SUBJECTS[rng.randrange(len(SUBJECTS))]
        place = rng.choice(["title", "keywords", "description"])
        title = f"{district}{subject}数据" if place == "title" else f"{district}城市数据{i}"
        keywords = [keyword, other[3]] if place == "keywords" else [other[3]]
        description = f"本数据集由{district}提供，涉及{other[0]}。"
        if place == "description":
            description += f"包含{subject}的位置信息。{subject_en.capitalize()} and PM2.5 readings."
        start = 2015 + rng.randrange(8)
        extras = [
            {"key": "title_en", "value": f"{subject_en.capitalize()} in {district_en}"},
            {"key": "access", "value": rng.choices(["unconditional", "conditional", "not_open"], [6, 3, 1])[0]},
            {"key": "temporal_start", "value": f"{start}-01-01"},
            {"key": "temporal_end", "value": f"{start + rng.randrange(4)}-12-31"},
        ]
        packages.append(
            {
                "name": f"ds-{i:03d}",
                "title": title,
                "notes": description,
                "tags": [{"name": k} for k in keywords],
                "groups": [{"name": theme}],
                "owner_org": PUBLISHERS[rng.randrange(3)],
                "license_id": rng.choice(["cc-by-4.0", "odc-odbl"]),
                "state": rng.choices(["active", "draft", "deleted"], [8, 1, 1])[0],
                "metadata_modified": f"2025-01-{1 + i % 28:02d}T{i % 24:02d}:00:00",
                "resources": [
                    {"url": f"https://example.org/{i}/{f}", "format": f, "name": f}
                    for f in rng.sample(FORMATS, 1 + rng.randrange(2))
                ],
                "extras": extras,
            }
        )
    return packages


# ---------------------------------------------------------------- the oracle: the documented semantics, naively

_STEM = snowballstemmer.stemmer("english")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")


def _norm(value: str) -> str:
    return unicodedata.normalize("NFKC", value).casefold()


def _field_has(item: Item, texts: list[str]) -> bool:
    for value in texts:
        value = _norm(value)
        if item.prefix:
            if any(item.tokens[0] in run for run in _CJK_RUN.findall(value)):
                return True
        elif _CJK_RUN.fullmatch(item.tokens[0]):
            word = item.tokens[0] + "".join(t[1] for t in item.tokens[1:])
            if any(word in run for run in _CJK_RUN.findall(value)):
                return True
        else:
            words = re.findall(r"[^\W_\u3400-\u9fff]+", value)
            if item.tokens[0].startswith(SPELLING):
                if item.tokens[0][1:] in words:
                    return True
            elif item.tokens[0] in {
                _STEM.stemWord(w) if w.isascii() and w.isalpha() and len(w) > 2 else w for w in words
            }:
                return True
    return False


def _word_in(word: Word, texts: list[str]) -> tuple[bool, bool]:
    """Whether a field holds the word exactly, and whether it holds it exactly or every one of its parts."""
    exact = _field_has(word.exact, texts)
    return exact, exact or (bool(word.parts) and all(_field_has(part, texts) for part in word.parts))


def _field_score(fields: list[list[bool]]) -> int:
    title, keywords, description = fields
    return 8 * all(title) + 4 * any(title) + 2 * any(keywords) + any(description)


def oracle(packages: list[dict[str, Any]], ids: dict[str, str], q: str) -> list[tuple[str, int]]:
    """Names and scores of the public matches of q, best first, ties by id (newest first)."""
    words = parse_query(q)
    found = []
    for p in packages:
        extras = {e["key"]: e["value"] for e in p["extras"]}
        if p["state"] != "active" or extras["access"] == "not_open":
            continue
        fields = [[p["title"], extras["title_en"]], [t["name"] for t in p["tags"]], [p["notes"]]]
        held = [[_word_in(w, texts) for w in words] for texts in fields]
        everywhere = [p["title"], extras["title_en"], *fields[1], p["notes"]]
        anywhere = [
            any(h[i][0] for h in held) or (bool(w.parts) and all(_field_has(part, everywhere) for part in w.parts))
            for i, w in enumerate(words)
        ]
        if not all(anywhere):
            continue
        exact = [[e for e, _ in field] for field in held]
        loose = [[lo for _, lo in field] for field in held]
        found.append((p["name"], _field_score(exact) + _field_score(loose)))
    return sorted(found, key=lambda ns: (ns[1], ids[ns[0]]), reverse=True)


def _load(engine: Engine, packages: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Load packages with ids fixed by their position, so two databases hold exactly the same rows."""
    add_entities(engine, PUBLISHERS)
    counter = itertools.count()
    monkeypatch.setattr(writer, "new_id", lambda: f"{next(counter):026d}")
    load_packages(engine, packages)
    return _names_to_ids(engine)


def _names_to_ids(engine: Engine) -> dict[str, str]:
    from catalog.datasets.models import Dataset

    with session_scope(engine) as session:
        return {d.name: d.id for d in session.exec(select(Dataset)).all()}


def _all(engine: Engine, query: SearchQuery) -> Iterator[tuple[list[str], list[int], search_query.SearchResult]]:
    while True:
        # A session per page: each page is its own request, and writers may come in between.
        with session_scope(engine) as session:
            result = run_search(session, query)
        yield result.ids, result.scores, result
        if result.next_cursor is None:
            return
        query.cursor = result.next_cursor


def _answer(engine: Engine, q: str, **extra: Any) -> tuple[list[tuple[str, int]], int, dict[str, Any]]:
    query = SearchQuery(q=q, facets=list(search_query.FACETS), limit=7, **extra)
    ids: list[str] = []
    scores: list[int] = []
    first: search_query.SearchResult | None = None
    for page_ids, page_scores, result in _all(engine, query):
        first = first or result
        ids += page_ids
        scores += page_scores
    assert first is not None
    names = {v: k for k, v in _names_to_ids(engine).items()}
    facets = {k: [(v.value, v.count) for v in values] for k, values in first.facets.items()}
    return [(names[i], s) for i, s in zip(ids, scores or [0] * len(ids), strict=True)], first.count, facets


@pytest.fixture
def packages() -> list[dict[str, Any]]:
    """The test corpus."""
    return corpus()


@pytest.fixture
def loaded(engine: Engine, packages: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The corpus loaded into the test database; names to ids."""
    return _load(engine, packages, monkeypatch)


def test_queries_find_exactly_what_the_oracle_finds_in_its_order(
    engine: Engine, packages: list[dict[str, Any]], loaded: dict[str, str]
) -> None:
    for q in QUERIES:
        answer, count, _ = _answer(engine, q)
        expected = oracle(packages, loaded, q)
        assert answer == expected, q
        assert count == len(expected), q
    # The corpus exercises every case: matches in each field, empty answers, Chinese, English, mixed.
    assert oracle(packages, loaded, "不存在的词") == []
    # Exact matches score their fields twice; matches through parts or stems (12, 13, 1) once.
    assert {s for q in QUERIES for _, s in oracle(packages, loaded, q)} >= {24, 26, 4, 2, 12, 13, 1}


def test_chinese_needs_no_spaces_and_finds_two_character_words(engine: Engine, loaded: dict[str, str]) -> None:
    spaced, _, _ = _answer(engine, "天河区 充电桩")
    unspaced, _, _ = _answer(engine, "天河区充电桩")
    assert spaced == unspaced and spaced
    parking, _, _ = _answer(engine, "停车")  # a 2-character word: a trigram index would miss it
    assert parking and {n for n, _ in parking} >= {n for n, _ in _answer(engine, "停车场")[0]}


def test_english_matches_word_forms(engine: Engine, loaded: dict[str, str]) -> None:
    parking, _, _ = _answer(engine, "parking")
    lots, _, _ = _answer(engine, "Parking Lots")
    assert parking and {n for n, _ in lots} <= {n for n, _ in parking}
    assert _answer(engine, "park")[0] == parking  # "parking" and "park" share a stem


def test_title_ranks_above_keywords_above_description(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    base = {"owner_org": "pub-a", "extras": [{"key": "title_en", "value": "x"}], "resources": []}
    packages = [
        {**base, "name": "in-description", "title": "城市数据甲", "notes": "这里有充电桩。", "tags": []},
        {**base, "name": "in-title", "title": "充电桩分布", "notes": "无关。", "tags": []},
        {**base, "name": "in-keywords", "title": "城市数据乙", "notes": "无关。", "tags": [{"name": "充电桩"}]},
        {**base, "name": "elsewhere", "title": "停车场", "notes": "无关。", "tags": []},
    ]
    ids = _load(engine, packages, monkeypatch)
    answer, count, _ = _answer(engine, "充电桩")
    assert [n for n, _ in answer] == ["in-title", "in-keywords", "in-description"]
    assert [s for _, s in answer] == [24, 4, 2]
    assert count == 3
    assert ids["in-title"] != ids["in-keywords"]


def test_filters_and_facets_are_exact(engine: Engine, packages: list[dict[str, Any]], loaded: dict[str, str]) -> None:
    public = [
        p
        for p in packages
        if p["state"] == "active" and {e["key"]: e["value"] for e in p["extras"]}["access"] != "not_open"
    ]

    def expected_facets(selected: list[dict[str, Any]]) -> dict[str, Counter[str]]:
        facets: dict[str, Counter[str]] = {k: Counter() for k in ("theme", "publisher", "format", "access", "year")}
        for p in selected:
            extras = {e["key"]: e["value"] for e in p["extras"]}
            facets["theme"].update(g["name"] for g in p["groups"])
            facets["publisher"][p["owner_org"]] += 1
            facets["format"].update({r["format"] for r in p["resources"]})
            facets["access"][extras["access"]] += 1
            facets["year"].update(
                str(y) for y in range(int(extras["temporal_start"][:4]), int(extras["temporal_end"][:4]) + 1)
            )
        return facets

    def check(selected: list[dict[str, Any]], **filters: Any) -> None:
        _, count, facets = _answer(engine, "", **filters)
        assert count == len(selected), filters
        for name, counter in expected_facets(selected).items():
            assert dict(facets[name]) == dict(counter), (name, filters)
            # Ordered by count, then value: the same tie-break on both engines.
            assert facets[name] == sorted(facets[name], key=lambda vc: (-vc[1], vc[0]))

    check(public)
    check([p for p in public if p["groups"][0]["name"] == "intelligent_vehicles"], themes=["intelligent_vehicles"])
    check([p for p in public if p["owner_org"] in ("pub-a", "pub-c")], publishers=["pub-a", "pub-c"])
    check([p for p in public if any(r["format"] == "CSV" for r in p["resources"])], formats=["csv"])
    check(
        [p for p in public if {e["key"]: e["value"] for e in p["extras"]}["access"] == "conditional"],
        access=["conditional"],
    )

    def covers(p: dict[str, Any], low: int, high: int) -> bool:
        extras = {e["key"]: e["value"] for e in p["extras"]}
        return int(extras["temporal_end"][:4]) >= low and int(extras["temporal_start"][:4]) <= high

    check([p for p in public if covers(p, 2018, 2019)], year_from=2018, year_to=2019)
    check([], formats=["NOSUCHFORMAT"])


def test_not_open_datasets_count_only_for_their_entity_and_staff(engine: Engine, loaded: dict[str, str]) -> None:
    with session_scope(engine) as session:
        public = run_search(session, SearchQuery(facets=["access"])).facets["access"]
        staff = run_search(session, SearchQuery(facets=["access"], viewer=Viewer(staff=True))).facets["access"]
        member = run_search(session, SearchQuery(facets=["access"], viewer=Viewer(entity_id="pub-a")))
    assert "not_open" not in {v.value for v in public}
    assert "not_open" in {v.value for v in staff}
    own = {v.value: v.count for v in member.facets["access"]}.get("not_open", 0)
    everyone = {v.value: v.count for v in staff}["not_open"]
    assert 0 < own < everyone


def test_sorts_and_cursor_pages_cover_everything_once(engine: Engine, loaded: dict[str, str]) -> None:
    for sort in ("newest", "title", "relevance"):
        answer, count, _ = _answer(engine, "数据" if sort == "relevance" else "", sort=sort)
        names = [n for n, _ in answer]
        assert len(names) == len(set(names)) == count
    with session_scope(engine) as session:
        titles = run_search(session, SearchQuery(sort="title", limit=1000)).ids
        from catalog.datasets.models import Dataset

        rows = {d.id: search_index.title_key(d.title) for d in session.exec(select(Dataset)).all()}
    keys = [(rows[i], i) for i in titles]
    assert keys == sorted(keys)


def test_pages_stay_stable_while_datasets_are_added(
    engine: Engine, packages: list[dict[str, Any]], loaded: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {n for n, _ in oracle(packages, loaded, "充电桩")}
    query = SearchQuery(q="充电桩", limit=3)
    seen: list[str] = []
    extra = itertools.count(1000)
    for page, (ids, _, _) in enumerate(_all(engine, query)):
        seen += ids
        # Between two pages, someone publishes more matching datasets, scoring high and low.
        new = [
            {**packages[0], "name": f"late-{page}-{k}", "title": "充电桩" if k else "其他", "notes": "充电桩"}
            for k in range(2)
        ]
        monkeypatch.setattr(writer, "new_id", lambda: f"{next(extra):026d}")
        load_packages(engine, new)
    names = {v: k for k, v in _names_to_ids(engine).items()}
    seen_names = [names[i] for i in seen]
    assert len(seen_names) == len(set(seen_names)), "no dataset twice"
    assert before <= set(seen_names), "every dataset present at the start is reached"


def test_bad_parameters_name_the_field(engine: Engine) -> None:
    from storage.exceptions import InvalidInput

    with session_scope(engine) as session:
        for query, field in [
            (SearchQuery(themes=["nope"]), "theme"),
            (SearchQuery(facets=["colour"]), "facets"),
            (SearchQuery(year_from=2020, year_to=2010), "year_from"),
            (SearchQuery(cursor="garbage!"), "cursor"),
        ]:
            with pytest.raises(InvalidInput) as caught:
                run_search(session, query)
            assert caught.value.errors[0].field == field


@pytest.mark.skipif(not POSTGRES_URL, reason="compares with PostgreSQL; the PostgreSQL run does it")
def test_sqlite_and_postgresql_give_identical_answers(
    engine: Engine, packages: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test database is PostgreSQL in this run; the same rows go into an SQLite file beside it."""
    assert engine.dialect.name == "postgresql"
    sqlite = make_engine(DatabaseSettings(database_url=f"sqlite:///{tmp_path / 'twin.db'}"))
    migrate.upgrade(sqlite)
    try:
        _load(engine, packages, monkeypatch)
        _load(sqlite, packages, monkeypatch)
        for q in QUERIES:
            for sort in ("relevance", "newest", "title"):
                assert _answer(engine, q, sort=sort) == _answer(sqlite, q, sort=sort), (q, sort)
        assert _answer(engine, "", themes=["public_services"]) == _answer(sqlite, "", themes=["public_services"])
    finally:
        sqlite.dispose()


def _every_answer(engine: Engine) -> list[Any]:
    """Each query in each order with every facet, and filter-only searches, as a comparable list."""
    answers: list[Any] = [_answer(engine, q, sort=sort) for q in QUERIES for sort in ("relevance", "newest", "title")]
    answers.append(_answer(engine, "", themes=["public_services"], tags=["充电桩"], year_from=2016, year_to=2019))
    answers.append(_answer(engine, "数据", formats=["csv"], licences=["odc-odbl"], publishers=["pub-a", "pub-c"]))
    return answers


def _rebuilt(engine: Engine) -> list[Any]:
    """The answers of a mirror built from scratch, as a newly started process would build it."""
    drop_mirror(engine)
    return _every_answer(engine)


@pytest.mark.parametrize("patch_limit", [0, 500])
def test_a_mirror_that_followed_writes_answers_as_a_fresh_one(
    engine: Engine,
    packages: list[dict[str, Any]],
    loaded: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    patch_limit: int,
) -> None:
    """Word sets and tags are patched for rewritten datasets (or dropped after a large change), never stale."""
    monkeypatch.setattr(search_mirror, "PATCH_LIMIT", patch_limit)
    _every_answer(engine)  # every query word and the tags are now held by this process
    changed = [
        {**packages[1], "title": "充电桩停车场数据", "tags": [{"name": "停车场"}]},  # words move between fields
        {**packages[2], "notes": "parking 无人机", "state": "active"},
        {**packages[3], "state": "deleted"},
        {**packages[0], "name": "brand-new", "title": "Tianhe charging 充电桩", "tags": [{"name": "充电桩"}]},
    ]
    extra = itertools.count(5000)
    monkeypatch.setattr(writer, "new_id", lambda: f"{next(extra):026d}")
    load_packages(engine, changed)
    followed = _every_answer(engine)
    assert followed == _rebuilt(engine)
    assert "brand-new" in {name for name, _ in _answer(engine, "Tianhe charging")[0]}


def test_title_order_is_the_same_sorted_in_memory_or_walked_in_the_index(
    engine: Engine, loaded: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for q in ("", "数据", "充电桩", "不存在的词"):
        monkeypatch.setattr(search_ordering, "TITLE_FETCH", 10**9)
        fetched = _answer(engine, q, sort="title")
        monkeypatch.setattr(search_ordering, "TITLE_FETCH", 0)
        assert _answer(engine, q, sort="title") == fetched, q


def test_a_small_word_budget_evicts_without_changing_answers(
    engine: Engine, loaded: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _every_answer(engine)
    monkeypatch.setattr(search_mirror, "WORD_SET_BUDGET", 1)
    drop_mirror(engine)
    assert _every_answer(engine) == expected


def test_a_write_invalidates_cached_answers(engine: Engine, loaded: dict[str, str]) -> None:
    before, count, facets = _answer(engine, "充电桩")
    assert _answer(engine, "充电桩") == (before, count, facets)
    package = corpus(1)[0] | {"name": "brand-new", "title": "充电桩新数据", "state": "active"}
    package["extras"] = [
        e if e["key"] != "access" else {"key": "access", "value": "unconditional"} for e in package["extras"]
    ]
    load_packages(engine, [package])
    after, new_count, _ = _answer(engine, "充电桩")
    assert new_count == count + 1 and "brand-new" in {n for n, _ in after}


def test_prepare_builds_the_mirror_before_any_search(engine: Engine, loaded: dict[str, str]) -> None:
    drop_mirror(engine)
    search_sources.prepare(engine)
    with session_scope(engine, write=False) as session:
        connection = session.connection()
        mirror = search_mirror.mirror_of(connection, search_sources.new_mirror)
        assert mirror.generation == search_index.generation(connection) > 0
        assert int(mirror["present"].sum()) == len(loaded)


def test_a_reader_older_than_the_mirror_never_leaves_its_view_behind(
    engine: Engine, packages: list[dict[str, Any]], loaded: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search whose transaction predates a write may answer from its older view, but not teach it to others."""
    late = {**packages[0], "name": "late-comer", "title": "消防栓分布", "state": "active"}
    late["extras"] = [
        e if e["key"] != "access" else {"key": "access", "value": "unconditional"} for e in late["extras"]
    ]
    with session_scope(engine, write=False) as old:
        run_search(old, SearchQuery(q="数据"))  # the old reader's snapshot starts here
        extra = itertools.count(9000)
        monkeypatch.setattr(writer, "new_id", lambda: f"{next(extra):026d}")
        load_packages(engine, [late])
        with session_scope(engine, write=False) as new:
            run_search(new, SearchQuery(q="数据"))  # the mirror moves past the old reader
        run_search(old, SearchQuery(q="消防栓"))  # a word first asked from the old view
        run_search(old, SearchQuery(tags=["充电桩"]))
    with session_scope(engine, write=False) as session:
        assert run_search(session, SearchQuery(q="消防栓")).ids == [_names_to_ids(engine)["late-comer"]]
    assert _every_answer(engine) == _rebuilt(engine)
