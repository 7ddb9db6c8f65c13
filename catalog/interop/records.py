"""The records every importer produces: one dataset to create or update, validated, with where it came from;
and the value parsers the CKAN and DCAT readers share."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from catalog.datasets.schemas import (
    NAME_PATTERN,
    DatasetFields,
)
from catalog.search.tokens import DocumentText
from registry.enums import Theme

CKAN_NAME = re.compile(NAME_PATTERN)
HTTP_URL = re.compile(r"^https?://\S+$")


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

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Records cross from the parsing processes as plain values: a third of the cost of pickling the
        # validated model and token lists as objects (tokens never contain spaces, so they travel joined).
        joined = None if self.text is None else tuple(" ".join(tokens) for tokens in self.text.fields())
        state = (self.where, self.name, dict(self.fields.__dict__), self.publisher, self.state, self.distributions)
        return _rebuilt_record, (*state, self.modified_at, self.issued_at, self.extras, self.resource_code, joined)


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
) -> ImportRecord:
    """An import record from its pickled values (already validated where it was parsed)."""
    text = None if joined is None else DocumentText(*(part.split() for part in joined))
    return ImportRecord(
        where, name, DatasetFields.model_construct(**fields), publisher, state, distributions,
        modified_at, issued_at, extras, resource_code, text,
    )  # fmt: skip


@dataclass
class ImportReport:
    """What an import did."""

    created: int = 0
    updated: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        """How many records were refused."""
        return len(self.errors)


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
