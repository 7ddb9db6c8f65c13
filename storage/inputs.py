"""What every input must be before it reaches a row, checked the same way on both engines.

Control characters (PostgreSQL text cannot hold NUL; SQLite can), http(s) URLs parsed per RFC 3986, the integer
ranges of SQL columns, and how deep a JSON text may nest before anything parses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import accumulate
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from pydantic import AfterValidator, StringConstraints

# INTEGER on PostgreSQL is 32-bit signed; BIGINT (and SQLite's INTEGER) 64-bit signed.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

# C0 controls and DEL: never part of a name, an id, a path or a URL. Lone surrogates too, which only JSON's \u
# escapes can bring: no database encoding can store them.
_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
# The same without tab, line feed and carriage return, which free text and search boxes may hold.
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def control_character(value: str, *, text: bool = False) -> str | None:
    """The first control character in a value as ``U+0000``, or None; ``text`` allows tabs and line breaks."""
    found = (_CONTROL_IN_TEXT if text else _CONTROL).search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


def control_message(character: str) -> str:
    """What a field holding a control character (or a lone surrogate) is told."""
    kind = "lone surrogates" if 0xD800 <= int(character[2:], 16) <= 0xDFFF else "control characters"
    return f"must not contain {kind} (found {character})"


# ---------------------------------------------------------------- URLs

URL_MAX_LENGTH = 2000
# What RFC 3986 never allows in a URI and an RDF IRI cannot hold: whitespace (Unicode's too), quotes, angle
# brackets, backslashes, the other excluded delimiters, and C0/C1 controls. Other non-ASCII letters are kept:
# Chinese portals publish IRIs (RFC 3987), and Turtle and JSON-LD carry them as they are.
_NOT_IN_URL = re.compile(r'[\s"<>\\^`{|}\x00-\x1f\x7f-\x9f]')
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
HTTP_SCHEMES = frozenset({"http", "https"})


def _shown(character: str) -> str:
    return repr(character) if character.isprintable() and not character.isspace() else f"U+{ord(character):04X}"


def url_problem(value: str) -> str | None:
    """Why a value is not an absolute http(s) URL with a host, or None when it is one."""
    if len(value) > URL_MAX_LENGTH:
        return f"must be at most {URL_MAX_LENGTH} characters"
    bad = _NOT_IN_URL.search(value)
    if bad is not None:
        return f"must not contain {_shown(bad.group())}"
    if _BAD_PERCENT.search(value):
        return "'%' must start a percent-encoded octet (%XX)"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - reading it checks the port: a ValueError when it is not a number in range
    except ValueError as exc:
        return f"is not a URL ({exc})"
    if parts.scheme.lower() not in HTTP_SCHEMES:
        return "must be an http or https URL"
    if not parts.hostname:
        return "must name a host"
    return None


def is_http(value: str) -> bool:
    """Whether a value claims the http or https scheme (valid or not)."""
    scheme, colon, _ = value.partition(":")
    return bool(colon) and scheme.lower() in HTTP_SCHEMES


def check_http_url(value: str) -> str:
    """The value unchanged when it is an absolute http(s) URL; a ValueError saying why otherwise."""
    problem = url_problem(value)
    if problem is not None:
        raise ValueError(f"URL {problem}")
    return value


def escaped_url(value: str) -> str:
    """A URL with what RFC 3986 does not allow percent-encoded as UTF-8, the way browsers send it."""
    return _BAD_PERCENT.sub("%25", _NOT_IN_URL.sub(lambda found: quote(found.group(), safe=""), value))


# Every URL the service accepts. A str, stored as given (only surrounding whitespace is stripped): pydantic's
# HttpUrl would rewrite it (a trailing slash on a bare host, a lowercased or punycoded host, percent-encoded
# quotes), so what a provider published would not be what the catalog and CKAN clients read back.
HttpUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=URL_MAX_LENGTH),
    AfterValidator(check_http_url),
]


# ---------------------------------------------------------------- JSON

# Request bodies nest a few levels (a registration's changes, a resource's data items); parsers recurse per level.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_ONE_KIND = bytes.maketrans(b"{}", b"[]")
_STEP = tuple(1 if b == ord("[") else -1 for b in range(256))
# How a control character (other than tab and line breaks, which the walk lets pass) or a surrogate (paired ones
# pass too) can appear in JSON text.
_ESCAPED_CONTROL = re.compile(rb"\\u00[01][0-9A-Fa-f]|\\u007[Ff]|\x7f|\\u[Dd][89A-Fa-f]")


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests arrays and objects deeper than the limit, found without parsing it."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    # Brackets inside strings do not nest; an unterminated string's brackets count, which only errs on the safe side.
    skeleton = _JSON_STRING.sub(b"", raw).translate(_ONE_KIND, _NOT_BRACKET)
    # Each round takes out the innermost pairs, so a balanced text that empties within `limit` rounds nests no
    # deeper: the common case, decided at C speed.
    reduced = skeleton
    for _ in range(limit):
        shorter = reduced.replace(b"[]", b"")
        if not shorter:
            return False
        if len(shorter) == len(reduced):
            break
        reduced = shorter
    # Unbalanced or deep: the exact deepest prefix, bracket by bracket.
    return max(accumulate(map(_STEP.__getitem__, skeleton)), default=0) > limit


def may_hold_control(raw: bytes) -> bool:
    """Whether a JSON text may hold a control character in a string: a cheap test before walking the parsed value."""
    return _ESCAPED_CONTROL.search(raw) is not None


def _strings(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield path, str(key)  # a key is reported at the object that holds it
            yield from _strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, str(index)))


def control_in_json(value: Any) -> tuple[str, str] | None:
    """The dotted path (empty at the top) and character of a control character, not tab or line break, in JSON."""
    for path, text in _strings(value, ()):
        character = control_character(text, text=True)
        if character is not None:
            return ".".join(path), character
    return None
