"""Reading CKAN action parameters: integers and lists as CKAN clients send them, Solr-style fq, sort names."""

from __future__ import annotations

import json
import re
from typing import Any

from catalog.interop.ckan.errors import CkanError, validation
from storage.inputs import MAX_JSON_DEPTH, control_in_json, control_message, json_too_deep

FIELDS = {
    "tags": "tag",
    "organization": "publisher",
    "owner_org": "publisher",
    "res_format": "format",
    "license_id": "licence",
    "groups": "theme",
    "access": "access",
}


def _integer(name: str, raw: Any) -> int:
    """An integer as CKAN clients send one: a JSON number with no fraction, or its decimal text."""
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):  # also refuses inf and nan
        raise validation(name, "Invalid integer")
    try:
        # int() refuses "1e3", "abc" and texts of more than 4300 digits with a ValueError.
        return int(raw if isinstance(raw, int | float) else str(raw).strip())
    except ValueError as exc:
        raise validation(name, "Invalid integer") from exc


def int_param(data: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    """An integer parameter within bounds (a validation error otherwise)."""
    value = _integer(name, data.get(name, default))
    if not low <= value <= high:
        raise validation(name, f"Must be between {low} and {high}")
    return value


def facet_limit_param(data: dict[str, Any], most: int) -> int:
    """``facet.limit``: how many values each facet lists; negative means all (Solr's meaning), up to ``most``."""
    raw = data.get("facet.limit")
    value = 50 if raw is None or raw == "" else _integer("facet.limit", raw)
    return most if value < 0 else min(max(value, 1), most)


def list_param(data: dict[str, Any], name: str) -> list[str]:
    """A list parameter: a JSON list, or one bare value."""
    raw = data.get(name)
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        if json_too_deep(raw.encode()):
            raise validation(name, f"Must not nest deeper than {MAX_JSON_DEPTH} levels")
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raw = [raw]
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise validation(name, "Must be a JSON list")
    return [str(x) for x in raw]


def refuse_control_characters(data: dict[str, Any]) -> None:
    """A validation error naming the first parameter that holds a control character (tabs and line breaks aside)."""
    # PostgreSQL cannot store NUL and SQLite can: refused here, both engines answer alike.
    found = control_in_json(data)
    if found is not None:
        field, character = found
        raise validation(field or "parameters", control_message(character))


def required_param(data: dict[str, Any], name: str) -> str:
    """A parameter that must be given and not empty."""
    value = data.get(name)
    if value is None or value == "":
        raise validation(name, "Missing value")
    return str(value)


_FQ = re.compile(r'([+-]?)([A-Za-z_]+):(?:"((?:[^"\\]|\\.)*)"|(\S+))')


def parse_fq(fq: str) -> dict[str, list[str]]:
    """Solr-style ``field:value`` terms of a CKAN fq, by search field; other syntax is refused."""
    found: dict[str, list[str]] = {}
    rest = _FQ.sub("", fq).replace("AND", "").strip()
    if rest:
        raise CkanError("Search Query Error", 409, f"unsupported fq syntax: {rest!r}")
    for sign, name, quoted, bare in _FQ.findall(fq):
        if sign == "-":
            raise CkanError("Search Query Error", 409, "negative fq terms are not supported")
        if name not in FIELDS:
            raise CkanError("Search Query Error", 409, f"unknown fq field {name!r}; known: {', '.join(FIELDS)}")
        found.setdefault(FIELDS[name], []).append(quoted.replace('\\"', '"') if quoted else bare)
    return found


SORTS = {
    "score desc, metadata_modified desc": "relevance",
    "score desc": "relevance",
    "relevance asc": "relevance",
    "metadata_modified desc": "newest",
    "metadata_created desc": "newest",
    "title_string asc": "title",
    "name asc": "title",
}
