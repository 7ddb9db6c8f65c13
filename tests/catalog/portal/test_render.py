"""The portal's small pieces: sizes and times as pages show them, links that keep the language, marked words, and
each language's templates made once, on its first page."""

from __future__ import annotations

import gettext
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime

import pytest

from catalog.portal.messages import compile_catalog
from catalog.portal.render import Renderer, Request, beijing, file_size
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


def test_each_language_is_compiled_once_on_its_first_page_even_when_pages_come_at_once() -> None:
    compiled: Counter[str] = Counter()

    def slow_compile(locale: str) -> gettext.GNUTranslations:
        compiled[locale] += 1
        time.sleep(0.05)  # long enough for every thread to ask while the first is still compiling
        return compile_catalog(locale)

    renderer = Renderer(slow_compile)
    assert compiled == Counter()
    pages: list[str] = []
    threads = [
        threading.Thread(
            target=lambda page=_page(locale): pages.append(renderer.render("signin.html", page, **_SIGNIN))
        )
        for locale in ("zh", "en", "zh", "en", "zh", "en")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert compiled == Counter({"zh": 1, "en": 1})
    assert len(pages) == 6 and sum("登录" in page for page in pages) == 3


_SIGNIN = {"problem": None, "wait_minutes": 0, "name": "", "next": "/"}


def _page(locale: str) -> Request:
    return Request(locale=locale, explicit=False, path="/signin", csrf="c")
