"""The portal's small pieces: sizes and times as pages show them, links that keep the language, marked words."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from catalog.portal.render import Request, beijing, file_size
from catalog.portal.search_view import SearchForm, mark, marked_words


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (5 * 1024**2, "5.0 MiB"),
        (7 * 1024**4, "7.0 TiB"),
    ],
)
def test_file_sizes(size: int, shown: str) -> None:
    assert file_size(size) == shown


def test_times_are_shown_in_beijing_time() -> None:
    assert beijing(datetime(2026, 11, 30, 17, 30, tzinfo=UTC)) == "2026-12-01 01:30"
    assert beijing(date(2026, 1, 2)) == "2026-01-02"
    assert beijing(None) == ""


def test_links_keep_a_chosen_language_only() -> None:
    chosen = Request(locale="en", explicit=True, path="/search", query=(("q", "公交"), ("lang", "en")))
    assert chosen.url("/search", [("q", "a b")]) == "/search?q=a+b&lang=en"
    assert chosen.in_language("zh") == "/search?q=%E5%85%AC%E4%BA%A4&lang=zh"
    by_header = Request(locale="en", explicit=False, path="/")
    assert by_header.url("/notices") == "/notices"


def test_facet_links_add_and_remove_a_value() -> None:
    form = SearchForm(q="公交", filters={"theme": ("public_services",)}, sort="newest")
    assert form.toggled("format", "CSV") == [
        ("q", "公交"),
        ("theme", "public_services"),
        ("format", "CSV"),
        ("sort", "newest"),
    ]
    assert form.toggled("theme", "public_services") == [("q", "公交"), ("sort", "newest")]


def test_words_are_marked_whole_and_in_their_parts() -> None:
    words = marked_words("公交站点 Bus")
    assert words[0] == "公交站点" and {"公交", "站点", "Bus"} <= set(words)
    assert mark("广州市公交站点客流; bus stops", words) == [
        ("广州市", False),
        ("公交站点", True),
        ("客流; ", False),
        ("bus", True),
        (" stops", False),
    ]
    assert mark("a <b> (c)", ["<b>", "(c)"]) == [("a ", False), ("<b>", True), (" ", False), ("(c)", True)]
    assert mark("", ["x"]) == [] and mark("text", []) == [("text", False)]
