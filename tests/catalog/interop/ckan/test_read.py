"""Reading CKAN dumps: a bad URL, a control character or a mistyped member refuses its record with a reason, alike
on both engines, and the rest of the file imports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from catalog.interop import importer
from catalog.interop.ckan import read as ckan_read
from catalog.interop.ckan.read import ckan_record
from catalog.interop.records import ImportRecord, RecordError, may_hold_controls
from tests.support.catalog import SYSTEM, add_entities
from tests.support.data import ckan_package


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"resources": [{"url": 'https://example.org/"x', "name": "q"}]}, "resource q: URL must not contain '\"'"),
        ({"resources": [{"url": "https://example.org/a\x00b"}]}, "U+0000"),
        ({"resources": [{"url": "https://example.org/a\x0bb"}]}, "U+000B"),
        ({"resources": [{"url": "ftp://example.org/x"}]}, "not http(s)"),
        ({"url": "https://example.org/a b"}, "url: URL must not contain U+0020"),
        ({"title": "停车\x00场"}, "title: must not contain control characters (found U+0000)"),
        ({"notes": "\x1b[31mred"}, "description: must not contain"),
        ({"tags": [{"name": "a\x00"}]}, "keywords.0: must not contain"),
        ({"resources": [{"url": "https://example.org/a", "name": "a\x00"}]}, "distributions.0.name: must not"),
        ({"extras": [{"key": "spatial\x00", "value": "x"}]}, "extras: must not contain"),
        ({"tags": 5}, "tags must be a list"),
        ({"resources": "https://example.org/a"}, "resources must be a list"),
    ],
)
def test_a_bad_package_is_a_record_error(overrides: dict[str, Any], says: str) -> None:
    with pytest.raises(RecordError) as raised:
        ckan_record(ckan_package("parking", "pub-a", **overrides), "line 1")
    assert says in str(raised.value)


def test_tabs_line_breaks_and_non_http_landing_pages_pass() -> None:
    record = ckan_record(ckan_package("parking", "pub-a", notes="一\n二\t三", url="not a url at all"), "line 1")
    assert record.fields.description == "一\n二\t三" and record.fields.landing_page is None
    record = ckan_record(ckan_package("parking", "pub-a", url=" https://example.org/停车 "), "line 1")
    assert record.fields.landing_page == "https://example.org/停车"


def test_an_import_refuses_the_bad_records_and_keeps_the_rest(engine: Engine, tmp_path: Path) -> None:
    add_entities(engine, ["pub-a"])
    lines = [
        ckan_package("good-one", "pub-a"),
        ckan_package("quoted", "pub-a", resources=[{"url": 'https://example.org/"x'}]),
        ckan_package("nul-title", "pub-a", title="a\x00b"),
        ckan_package("good-two", "pub-a"),
    ]
    source = tmp_path / "dump.jsonl"
    source.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    report = importer.import_file(engine, source, caller=SYSTEM, progress=False)
    assert (report.created, report.updated) == (2, 0)
    assert [where for where, _ in report.errors] == ["line 2", "line 3"]


CONTROLS = [
    {"title": "停车\x00场"},
    {"notes": "\x1b[31mred"},
    {"notes": "del\x7f"},
    {"notes": "lone \ud800 surrogate"},
    {"tags": [{"name": "a\x0cb"}]},
    {"resources": [{"url": "https://example.org/a", "name": "a\x08"}]},
    {"extras": [{"key": "spatial\x00", "value": "x"}]},
]


# A lone surrogate cannot stand in a UTF-8 file, only its escape can: it is written escaped only.
@pytest.mark.parametrize(
    ("overrides", "ascii_only"),
    [(o, True) for o in CONTROLS] + [(o, False) for o in CONTROLS if "surrogate" not in str(o.get("notes"))],
)
def test_lines_whose_text_shows_no_control_characters_skip_the_search_and_refuse_alike(
    overrides: dict[str, Any], ascii_only: bool
) -> None:
    package = ckan_package("parking", "pub-a", **overrides)
    line = json.dumps(package, ensure_ascii=ascii_only)
    assert may_hold_controls(line)
    with pytest.raises(RecordError) as raised:
        ckan_record(package, "line 1")
    [parsed] = ckan_read._parse_lines(1, [line])
    assert isinstance(parsed, RecordError) and str(parsed) == f"line 1: {raised.value}"


def test_escaped_backslashes_tabs_and_astral_characters_pass() -> None:
    package = ckan_package("parking", "pub-a", notes="a \\u0000 b\tc\nd 😀", title="\\b\\f")
    for line in (json.dumps(package), json.dumps(package, ensure_ascii=False)):
        [parsed] = ckan_read._parse_lines(1, [line])
        assert isinstance(parsed, ImportRecord) and parsed.fields.description == "a \\u0000 b\tc\nd 😀"
    assert not may_hold_controls(json.dumps(ckan_package("parking", "pub-a", notes="一\t二"), ensure_ascii=False))
