# ruff: noqa: S608 - the SQL here is assembled from fixed fragments, no values.
"""The bulk import's fast paths: indexes set aside and built again when the catalog is nearly empty, rows and
full-text entries built where records are parsed, PostgreSQL's COPY with awkward values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from catalog.interop import deferred, importer
from catalog.interop.ckan import read as ckan_read
from tests.support.catalog import SYSTEM, add_entities
from tests.support.data import ckan_package

SUBJECTS = [
    ("停车场", "parking lots"),
    ("充电桩", "charging piles"),
    ("空气质量", "air quality"),
    ("医院", "hospitals"),
]
QUERIES = ["停车场", "充电桩", "空气", "parking", "hospitals", "天河区", ""]


def _write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    return path


def _packages(prefix: str, owner: str, count: int) -> list[dict[str, Any]]:
    """Varied packages: subjects, districts, formats, access levels and one update of an earlier name."""
    packages = []
    for i in range(count):
        subject, english = SUBJECTS[i % len(SUBJECTS)]
        district = ["天河区", "海珠区", "番禺区"][i % 3]
        packages.append(
            ckan_package(
                f"{prefix}-{i}",
                owner,
                title=f"{district}{subject}数据{i}",
                notes=f"{district}{subject}的分布。{english.capitalize()} in Guangzhou.",
                tags=[{"name": subject}, {"name": district}],
                resources=[{"url": f"https://data.example.org/{i}.csv", "format": ["CSV", "JSON"][i % 2]}],
                metadata_modified=f"2025-03-{1 + i % 28:02d}T08:00:00",
            )
        )
    packages.append({**packages[1], "title": "天河区停车场数据（修订）"})  # the same name again: an update
    return packages


def _indexes(engine: Engine) -> dict[str, str]:
    """Every index of the schema and its definition."""
    if engine.dialect.name == "sqlite":
        sql = "SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type = 'index'"
    else:
        sql = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    with engine.connect() as connection:
        return {str(name): str(definition) for name, definition in connection.execute(text(sql))}


def _found(client: TestClient, publisher: str, prefix: str) -> dict[str, list[str]]:
    """Names found by each query among one publisher's datasets, with the prefix taken off, in the order given."""
    found = {}
    for q in QUERIES:
        params = {"q": q, "publisher": publisher, "limit": 100, "sort": "relevance" if q else "title"}
        items = client.get("/api/v1/datasets", params=params).json()["items"]
        found[q] = [item["name"].removeprefix(prefix) for item in items]
    return found


def test_an_import_into_a_nearly_empty_catalog_builds_its_indexes_after_the_load_and_finds_the_same(
    client: TestClient, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_entities(engine, ["pub-a", "pub-b"])
    before = _indexes(engine)
    set_aside: list[list[str]] = []
    original = deferred.set_aside
    monkeypatch.setattr(deferred, "set_aside", lambda e: set_aside.append(original(e)) or set_aside[-1])
    monkeypatch.setattr(importer, "DEFER_INDEXES_FROM", 10)
    first = importer.import_file(
        engine, _write_lines(tmp_path / "a.jsonl", _packages("a", "pub-a", 40)), caller=SYSTEM, progress=False
    )
    assert (first.created, first.updated, first.errors) == (40, 1, [])
    assert "ix_dataset_search_state_title" in set_aside[0] and "ix_dataset_tag_doc" in set_aside[0]
    if engine.dialect.name == "postgresql":
        assert "ix_dataset_fts_vector" in set_aside[0]
    assert _indexes(engine) == before  # every index is back, defined as the migrations define it

    # The same records into a catalog that is no longer nearly empty: written as they go, found alike.
    second = importer.import_file(
        engine, _write_lines(tmp_path / "b.jsonl", _packages("b", "pub-b", 40)), caller=SYSTEM, progress=False
    )
    assert (second.created, second.updated, len(set_aside)) == (40, 1, 1)
    in_empty, in_full = _found(client, "pub-a", "a-"), _found(client, "pub-b", "b-")
    assert in_empty == in_full
    assert "1" in in_empty["停车场"] and len(in_empty[""]) == 40
    assert client.get("/api/v1/datasets/a-1").json()["title"] == "天河区停车场数据（修订）"


def test_indexes_an_import_left_set_aside_are_built_by_the_next_import(engine: Engine, tmp_path: Path) -> None:
    add_entities(engine, ["pub-a"])
    before = _indexes(engine)
    dropped = deferred.set_aside(engine)
    assert dropped and not set(dropped) & set(_indexes(engine))
    report = importer.import_file(
        engine, _write_lines(tmp_path / "one.jsonl", [ckan_package("one", "pub-a")]), caller=SYSTEM, progress=False
    )
    assert report.created == 1
    assert _indexes(engine) == before


def test_a_small_import_or_one_into_a_full_catalog_keeps_its_indexes(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_entities(engine, ["pub-a"])
    monkeypatch.setattr(deferred, "set_aside", lambda e: pytest.fail("indexes set aside"))
    report = importer.import_file(
        engine, _write_lines(tmp_path / "a.jsonl", _packages("a", "pub-a", 3)), caller=SYSTEM, progress=False
    )
    assert report.created == 3  # fewer records than DEFER_INDEXES_FROM
    # Three datasets held: an import of thirty more is not into a nearly empty catalog, of thirty-one it is.
    assert not deferred.nearly_empty(engine, 30) and deferred.nearly_empty(engine, 31)


AWKWARD = [
    "tab\there",
    "two\nlines\r\nand a return",
    "back\\slash \\N \\t \\\\ and a lone \\",
    "end of copy\n\\.\nstill going",
    "quotes ' \" `",
    "emoji 😀 and 𠀀𪚥 (astral CJK) and ﬁ ligature, Ａ full-width",
    'json-ish {"a": [1, "\\u0000"]}',
]


def test_awkward_values_arrive_exactly_on_both_engines(client: TestClient, engine: Engine, tmp_path: Path) -> None:
    add_entities(engine, ["pub-a"])
    packages = []
    for i, value in enumerate(AWKWARD):
        packages.append(
            ckan_package(
                f"awkward-{i}",
                "pub-a",
                title=f"停车场 {value}"[:300],
                notes=f"描述 {value}",
                tags=[{"name": f"标签{i} {value.splitlines()[0]}"[:100]}],
                resources=[{"url": f"https://data.example.org/{i}.csv", "format": "CSV", "name": value[:300]}],
                extras=[{"key": "note", "value": value}, {"key": "k\\\t", "value": 3}],
            )
        )
    # Through the parsing processes too, whose records carry rows built ahead.
    lines = _write_lines(tmp_path / "awkward.jsonl", packages)
    records = ckan_read.read_ckan_lines(lines, workers=1, dialect=engine.dialect.name)
    report = importer.import_records(engine, records, caller=SYSTEM)
    assert (report.created, report.errors) == (len(AWKWARD), [])
    for i, value in enumerate(AWKWARD):
        view = client.get(f"/api/v1/datasets/awkward-{i}").json()
        assert view["title"] == f"停车场 {value}" and view["description"] == f"描述 {value}"
        assert view["keywords"] == [f"标签{i} {value.splitlines()[0]}"]
        assert [link["name"] for link in view["distributions"]] == [value]
        with engine.connect() as connection:
            extras = connection.execute(text("SELECT extras FROM dataset WHERE name = :n"), {"n": f"awkward-{i}"})
            stored = extras.scalar_one()
        assert (json.loads(stored) if isinstance(stored, str) else stored) == {"note": value, "k\\\t": 3}
    found = client.get("/api/v1/datasets", params={"q": "emoji", "limit": 50}).json()["items"]
    assert [item["name"] for item in found] == ["awkward-5"]
    assert client.get("/api/v1/datasets", params={"q": "停车场", "limit": 50}).json()["count"] == len(AWKWARD)


def test_rows_built_where_records_are_parsed_match_those_built_by_the_writer(engine: Engine, tmp_path: Path) -> None:
    add_entities(engine, ["pub-a"])
    packages = _packages("x", "pub-a", 6)[:-1]
    here = _write_lines(tmp_path / "here.jsonl", [{**p, "name": "here-" + p["name"]} for p in packages])
    built = _write_lines(tmp_path / "built.jsonl", [{**p, "name": "built-" + p["name"]} for p in packages])
    importer.import_records(engine, ckan_read.read_ckan_lines(here, workers=0), caller=SYSTEM)
    records = ckan_read.read_ckan_lines(built, workers=1, dialect=engine.dialect.name)
    importer.import_records(engine, records, caller=SYSTEM)
    sqlite = engine.dialect.name == "sqlite"
    entry = (
        "title || '|' || keywords || '|' || description FROM dataset_fts f WHERE f.rowid"
        if sqlite
        else ("vector::text FROM dataset_fts f WHERE f.doc")
    )
    sql = (
        "SELECT d.name, d.title, d.keywords, d.themes, d.extras, d.access, d.state, d.modified_at, "
        f"s.title_key, s.format_bits, s.theme_bits, (SELECT {entry} = s.doc), "
        "(SELECT count(*) FROM dataset_distribution x WHERE x.dataset_id = d.id), "
        "(SELECT count(*) FROM dataset_version v WHERE v.dataset_id = d.id) "
        "FROM dataset d JOIN dataset_search s ON s.dataset_id = d.id ORDER BY d.name"
    )
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text(sql))]
    by_name = {row[0]: row[1:] for row in rows}
    assert len(by_name) == 2 * len(packages)
    for package in packages:
        assert by_name["built-" + package["name"]] == by_name["here-" + package["name"]]
