"""The edge's pure checks: control characters, http(s) URLs per RFC 3986, JSON depth found without parsing."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ValidationError

from storage.inputs import (
    MAX_JSON_DEPTH,
    HttpUrl,
    control_character,
    control_in_json,
    escaped_url,
    is_http,
    json_too_deep,
    may_hold_control,
    url_problem,
)


class _Link(BaseModel):
    url: HttpUrl


def test_control_characters_in_names_and_in_text() -> None:
    assert control_character("a\x00b") == "U+0000"
    assert control_character("a\x7f") == "U+007F"
    assert control_character("a\tb") == "U+0009"
    assert control_character("a\tb\r\n", text=True) is None
    assert control_character("a\x1bb", text=True) == "U+001B"
    assert control_character("天河区 data") is None
    assert control_character("a\ud800", text=True) == "U+D800"  # a lone surrogate: no database can store it
    assert control_character("😀", text=True) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://data.example.gov.cn/piles.csv",
        "http://example.org",
        "HTTPS://Example.org:8443/a/b?x=1&y=%E6%95%B0#part",
        "https://example.org/数据/表.csv",  # an IRI: Chinese portals publish them
        "https://[2001:db8::1]/x",
        "https://user@example.org/it's(1)",
    ],
)
def test_valid_urls_are_kept_as_given(url: str) -> None:
    assert url_problem(url) is None
    assert _Link(url=f"  {url} ").url == url  # only surrounding whitespace goes; nothing is normalised


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ('https://example.org/"x', "'\"'"),
        ("https://example.org/a\x00b", "U+0000"),
        ("https://example.org/a\x1fb", "U+001F"),
        ("https://example.org/a\x85b", "U+0085"),
        ("https://example.org/a b", "U+0020"),
        ("https://example.org/a\u3000b", "U+3000"),
        ("https://example.org/<script>", "'<'"),
        ("https://example.org/a\\b", "'\\\\'"),
        ("https://example.org/{x}", "'{'"),
        ("https://example.org/100%", "percent-encoded"),
        ("ftp://example.org/x", "http or https"),
        ("javascript://example.org/%0Aalert(1)", "http or https"),
        ("https:///path-only", "host"),
        ("https://example.org:99999/", "not a URL"),
        ("https://example.org/" + "x" * 2000, "at most 2000"),
    ],
)
def test_invalid_urls_say_why(url: str, says: str) -> None:
    problem = url_problem(url)
    assert problem is not None and says in problem
    with pytest.raises(ValidationError):
        _Link(url=url)


def test_a_stored_bad_url_escapes_into_a_valid_one() -> None:
    assert escaped_url('https://example.org/a"b c\x00%zz') == "https://example.org/a%22b%20c%00%25zz"
    assert url_problem(escaped_url('https://example.org/a"b c\x00%zz')) is None
    assert escaped_url("https://example.org/x") == "https://example.org/x"


def test_is_http_looks_at_the_scheme_only() -> None:
    assert is_http("HTTP://x") and is_http('https://"')
    assert not is_http("ftp://x") and not is_http("example.org") and not is_http("")


def test_json_depth_is_found_without_parsing() -> None:
    deep = b"[" * 10_000 + b"]" * 10_000
    assert json_too_deep(deep)
    assert json_too_deep(b"[" * 10_000)  # unbalanced: Python's parser would still recurse
    assert not json_too_deep(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert json_too_deep(b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1))
    wide = json.dumps([[i] for i in range(5000)]).encode()
    assert not json_too_deep(wide)
    brackets_in_text = json.dumps({"text": "[" * 5000, "quoted": '\\"[[[' * 100}).encode()
    assert not json_too_deep(brackets_in_text)


def test_control_characters_in_json_are_found_with_their_path() -> None:
    assert control_in_json({"name": "a\x00b"}) == ("name", "U+0000")
    assert control_in_json({"items": [{"x": "ok"}, {"x": "\x01"}]}) == ("items.1.x", "U+0001")
    assert control_in_json({"changes": {"k\x00": 1}}) == ("changes", "U+0000")
    assert control_in_json("\x00") == ("", "U+0000")
    assert control_in_json(json.loads(b'{"a": "\\udfff"}')) == ("a", "U+DFFF")
    assert control_in_json(json.loads(b'{"a": "\\ud83d\\ude00"}')) is None  # a pair is one character
    assert control_in_json({"description": "line\none\ttab\r\n", "n": 1, "none": None}) is None


def test_only_escapes_make_a_json_text_worth_walking() -> None:
    assert may_hold_control(rb'{"a": "\u0000"}') and may_hold_control(rb'{"a": "\u001B"}')
    assert may_hold_control(b'{"a": "\x7f"}') and may_hold_control(rb'{"a": "\uD800"}')
    assert not may_hold_control('{"a": "天河区\\n\\t"}'.encode())
