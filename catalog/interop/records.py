"""The records every importer produces: one dataset to create or update, validated, with where it came from;
and the value parsers the CKAN and DCAT readers share."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from catalog.datasets.schemas import (
    NAME_PATTERN,
    DatasetFields,
)
from catalog.search.index import full_text_entry
from catalog.search.tokens import DocumentText, document_text
from registry.enums import Theme
from storage.ids import new_id
from storage.inputs import control_character, control_in_json, control_message, is_http, url_problem

CKAN_NAME = re.compile(NAME_PATTERN)


# An organisation's CKAN name and title, as far as a record gives them.
Organization = tuple[str | None, str | None]
# Groups that became themes, that were kept as keywords, that were dropped.
GroupTally = tuple[int, int, int]


class RecordError(ValueError):
    """One record cannot be imported; the message says why."""


@dataclass
class ImportRecord:
    """One dataset to create or update, validated, with where it came from."""

    where: str
    name: str
    fields: DatasetFields
    publisher: str | None
    state: str
    distributions: list[dict[str, Any]]
    modified_at: datetime | None = None
    issued_at: datetime | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    resource_code: str | None = None
    text: DocumentText | None = None
    # The organisation's other names, tried after `publisher`: its CKAN name and its title.
    organization: Organization = (None, None)
    # The record's groups: how many became themes, how many were kept as keywords, how many were dropped.
    groups: GroupTally = (0, 0, 0)
    # Built where the record was parsed, when the parser was told the engine (``prebuild``): the search index's
    # full-text entry in the engine's form; the new rows' ids (the dataset's, its first version's, then one per
    # distribution); the keywords, themes and extras as the JSON text their columns hold.
    full_text: tuple[str, ...] | None = None
    ids: list[str] | None = None
    json_texts: tuple[str, str, str] | None = None

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Records cross from the parsing processes as plain values: a third of the cost of pickling the
        # validated model and token lists as objects (tokens never contain spaces, so they travel joined). A
        # record that carries its full-text entry needs its tokens no more.
        tokens = self.text if self.full_text is None else None
        joined = None if tokens is None else tuple(" ".join(part) for part in tokens.fields())
        state = (self.where, self.name, dict(self.fields.__dict__), self.publisher, self.state, self.distributions)
        more = (self.modified_at, self.issued_at, self.extras, self.resource_code, joined)
        built = (self.full_text, self.ids, self.json_texts)
        return _rebuilt_record, (*state, *more, self.organization, self.groups, *built)


def _rebuilt_record(
    where: str,
    name: str,
    fields: dict[str, Any],
    publisher: str | None,
    state: str,
    distributions: list[dict[str, Any]],
    modified_at: datetime | None,
    issued_at: datetime | None,
    extras: dict[str, Any],
    resource_code: str | None,
    joined: tuple[str, str, str] | None,
    organization: Organization,
    groups: GroupTally,
    full_text: tuple[str, ...] | None = None,
    ids: list[str] | None = None,
    json_texts: tuple[str, str, str] | None = None,
) -> ImportRecord:
    """An import record from its pickled values (already validated where it was parsed)."""
    text = None if joined is None else DocumentText(*(part.split() for part in joined))
    return ImportRecord(
        where, name, DatasetFields.model_construct(**fields), publisher, state, distributions,
        modified_at, issued_at, extras, resource_code, text, organization, groups, full_text, ids, json_texts,
    )  # fmt: skip


# The garbage collector's thresholds while records are parsed and loaded (the defaults are 700, 10, 10): a batch's
# records are all alive until written, and nothing they hold needs a collection to be freed.
LOAD_COLLECTIONS = (50_000, 20, 100)


def prebuild(record: ImportRecord, dialect: str) -> None:
    """Build ahead, in the parsing process, what the writer would otherwise build while the database waits."""
    f = record.fields
    if record.text is None:
        record.text = document_text(f.title, f.title_en, f.keywords, f.description)
    record.full_text = full_text_entry(record.text, dialect)
    record.ids = [new_id() for _ in range(2 + len(record.distributions))]
    # As SQLAlchemy's JSON type writes them (json.dumps, its default serializer on both engines).
    themes = [t.value for t in f.themes]
    record.json_texts = (json.dumps(list(f.keywords)), json.dumps(themes), json.dumps(record.extras))


@dataclass
class ImportReport:
    """What an import did: datasets written, records refused, and how organisations and groups were taken."""

    created: int = 0
    updated: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    # Records written whose organisation the organisation map named, or whose title named an entity.
    mapped: int = 0
    by_title: int = 0
    # Organisations no entity was found for, with how many records they cost.
    unknown: Counter[str] = field(default_factory=Counter)
    groups_as_themes: int = 0
    groups_kept: int = 0
    groups_dropped: int = 0

    @property
    def failed(self) -> int:
        """How many records were refused."""
        return len(self.errors)

    def mark(self) -> ImportReport:
        """What the report says now, to go back to if a batch is undone."""
        return replace(self, errors=list(self.errors), unknown=Counter(self.unknown))

    def rewind(self, mark: ImportReport) -> None:
        """Go back to what a mark recorded."""
        self.__dict__.update(mark.mark().__dict__)

    def mapping_lines(self) -> list[str]:
        """What became of organisations and groups, for people; nothing when no record had either."""
        lines = []
        if self.mapped or self.by_title or self.unknown:
            lines.append(
                f"organizations: {self.mapped} records mapped by --org-map, {self.by_title} matched by title, "
                f"{sum(self.unknown.values())} dropped for {len(self.unknown)} unknown organizations"
            )
            lines += [f"  unknown {label}: {count} records" for label, count in self.unknown.most_common(50)]
        if self.groups_as_themes or self.groups_kept or self.groups_dropped:
            lines.append(
                f"groups: {self.groups_as_themes} taken as themes, {self.groups_kept} kept as keywords, "
                f"{self.groups_dropped} dropped"
            )
        return lines

    def count_written(self, record: ImportRecord, how: str) -> None:
        """Count how a written record's organisation was found and what became of its groups."""
        self.mapped += how == MAPPED
        self.by_title += how == BY_TITLE
        themes, kept, dropped = record.groups
        self.groups_as_themes += themes
        self.groups_kept += kept
        self.groups_dropped += dropped


# How a record's organisation was found: by id, USCC or name; through the organisation map; by its title.
DIRECT, MAPPED, BY_TITLE = "direct", "mapped", "title"


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_date(value: Any) -> date | None:
    if not value:
        return None
    raw = str(value).strip()
    if re.fullmatch(r"\d{4}", raw):
        return date(int(raw), 1, 1)
    try:
        return date.fromisoformat(raw[:10])
    except ValueError as exc:
        raise RecordError(f"not a date: {raw!r}") from exc


def http_url(value: Any, what: str) -> str | None:
    """An http(s) URL as given; None for another scheme or none; a RecordError for an http(s) one that is not valid."""
    url = str(value or "").strip()
    if not is_http(url):
        return None
    problem = url_problem(url)
    if problem is not None:
        raise RecordError(f"{what}: URL {problem}")
    return url


def _texts_of(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


# What a JSON text shows wherever one of its strings may hold a character `without_control_characters` refuses: an
# escaped C0 control (tabs and line breaks too, written as \u0009 and the like), DEL or surrogate, or DEL or a
# surrogate itself. Raw C0 controls never parse, so a text without any of these needs no closer look.
_MAY_HOLD_CONTROLS = re.compile(r"\\u00[01][0-9a-fA-F]|\\u007[fF]|\\u[dD][89a-fA-F]|\\[bf]|[\x7f\ud800-\udfff]")


def may_hold_controls(json_text: str) -> bool:
    """Whether the strings of a JSON text may hold control characters or surrogates (False: they hold none)."""
    return _MAY_HOLD_CONTROLS.search(json_text) is not None


def without_control_characters(record: ImportRecord) -> ImportRecord:
    """The record when no text of it holds a control character but tabs and line breaks; a RecordError otherwise."""
    # PostgreSQL cannot store NUL and SQLite can: checked here, both engines refuse the record alike. One search over
    # all the texts at once keeps it cheap on a million records; only a hit walks the record to name the field.
    strings = [text for value in record.fields.__dict__.values() for text in _texts_of(value)]
    strings += [record.name, record.publisher or "", record.resource_code or ""]
    strings += [text for link in record.distributions for text in _texts_of(list(link.values()))]
    strings += [text for item in record.extras.items() for text in _texts_of(list(item))]
    if control_character("\t".join(strings), text=True) is None:
        return record
    texts = {
        **record.fields.__dict__,
        "name": record.name,
        "publisher": record.publisher,
        "resource_code": record.resource_code,
        "distributions": record.distributions,
        "extras": record.extras,
    }
    found = control_in_json(texts)
    if found is not None:
        raise RecordError(f"{found[0] or 'record'}: {control_message(found[1])}")
    return record


def validation_message(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in exc.errors())


THEME_NAMES = frozenset(t.value for t in Theme)


def themes_of(values: Sequence[str]) -> list[str]:
    found = []
    for value in values:
        key = str(value).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        if key in THEME_NAMES:
            found.append(key)
    return list(dict.fromkeys(found))
