"""Reading CKAN package dicts, one JSON object a line (``ckanapi dump datasets``), into import records.

Large files are parsed, validated and tokenized in worker processes while the importing process writes.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import re
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from catalog.datasets.models import DatasetState
from catalog.datasets.schemas import DatasetFields
from catalog.interop.records import (
    CKAN_NAME,
    LOAD_COLLECTIONS,
    GroupTally,
    ImportRecord,
    Organization,
    RecordError,
    http_url,
    may_hold_controls,
    parse_date,
    parse_time,
    prebuild,
    themes_of,
    validation_message,
    without_control_characters,
)
from catalog.search.formats import normalise_format
from catalog.search.tokens import document_text
from registry.enums import THEME_LABELS_ZH, Openness, UpdateCycle

_FREQUENCIES = {
    "daily": UpdateCycle.daily,
    "weekly": UpdateCycle.weekly,
    "monthly": UpdateCycle.monthly,
    "quarterly": UpdateCycle.quarterly,
    "annual": UpdateCycle.yearly,
    "annually": UpdateCycle.yearly,
    "yearly": UpdateCycle.yearly,
    "irreg": UpdateCycle.irregular,
    "irregular": UpdateCycle.irregular,
    "cont": UpdateCycle.realtime,
    "continuous": UpdateCycle.realtime,
    "update_cont": UpdateCycle.realtime,
    "realtime": UpdateCycle.realtime,
    "never": UpdateCycle.static,
    "static": UpdateCycle.static,
}


THEMES_BY_LABEL = {label: theme.value for theme, label in THEME_LABELS_ZH.items()}
# What DatasetFields allows: groups kept as keywords stop where the keywords would be refused.
MAX_KEYWORDS = 50
MAX_KEYWORD_LENGTH = 100

# CKAN's package states and the catalog's.
_STATES = {"active": DatasetState.published, "draft": DatasetState.draft, "deleted": DatasetState.withdrawn}


def ckan_record(package: dict[str, Any], where: str, *, checked: bool = True) -> ImportRecord:
    """Map one CKAN package dict to an import record; `checked=False` when its JSON line cannot hold control
    characters (``may_hold_controls``), whose search through the record's texts is then spared."""
    if not isinstance(package, dict):
        raise RecordError("a line must hold one JSON object (a CKAN package)")
    extras = {
        str(e.get("key")): e.get("value")
        for e in _listed(package, "extras")
        if isinstance(e, dict) and e.get("key") is not None
    }
    name = str(package.get("name") or "").strip().lower()
    if not CKAN_NAME.match(name):
        raise RecordError(f"name {name!r} is not a CKAN name (2-100 of a-z, 0-9, - and _)")
    organization = _organization(package)
    publisher = package.get("owner_org") or organization[0]
    values = _fields(package, name, extras)
    groups = _take_groups(package, values)
    try:
        fields = DatasetFields.model_validate(values)
    except ValidationError as exc:
        raise RecordError(validation_message(exc)) from exc
    record = ImportRecord(
        where=where,
        name=name,
        fields=fields,
        publisher=str(publisher) if publisher else None,
        state=_STATES.get(str(package.get("state") or "active"), DatasetState.published),
        distributions=[_distribution(r) for r in _listed(package, "resources") if isinstance(r, dict)],
        modified_at=parse_time(package.get("metadata_modified")),
        issued_at=parse_time(package.get("metadata_created")),
        extras={k: v for k, v in extras.items() if isinstance(v, str | int | float | bool)},
        resource_code=str(extras["resource_code"]) if extras.get("resource_code") else None,
        organization=organization,
        groups=groups,
    )
    return without_control_characters(record) if checked else record


def _organization(package: dict[str, Any]) -> Organization:
    """The CKAN name and the title of the package's organisation, as far as the package gives them."""
    organization = package.get("organization")
    if not isinstance(organization, dict):
        return None, None
    name, title = (str(organization.get(key) or "").strip() or None for key in ("name", "title"))
    return name, title


def _listed(package: dict[str, Any], name: str) -> list[Any]:
    """A list member of a package dict (absent or empty: no items); anything else refuses the record."""
    value = package.get(name)
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise RecordError(f"{name} must be a list")
    return value


def _fields(package: dict[str, Any], name: str, extras: dict[str, Any]) -> dict[str, Any]:
    """The catalog metadata a package describes, still to be validated."""
    keywords = [str(t.get("name")) for t in _listed(package, "tags") if isinstance(t, dict) and t.get("name")]
    themes_extra = extras.get("themes") or extras.get("theme") or ""
    if isinstance(themes_extra, str):
        themes_extra = [t for t in re.split(r"[,\s]+", themes_extra) if t]
    access = str(extras.get("access") or extras.get("access_level") or "")
    if not access:
        access = Openness.not_open.value if package.get("private") else Openness.unconditional.value
    return {
        "title": package.get("title") or name,
        "title_en": extras.get("title_en"),
        "description": package.get("notes") or "",
        "keywords": keywords,
        "themes": themes_of(themes_extra if isinstance(themes_extra, list) else []),
        "licence": package.get("license_id") or None,
        "access": access,
        "temporal_start": parse_date(extras.get("temporal_start")),
        "temporal_end": parse_date(extras.get("temporal_end")),
        "spatial": extras.get("spatial_text") or extras.get("spatial") or None,
        "update_frequency": _FREQUENCIES.get(str(extras.get("frequency") or "").lower()),
        # CKAN's url is often not a URL at all: only one that claims http(s) is taken (and must then be valid).
        "landing_page": http_url(package.get("url"), "url"),
    }


def _theme_of_group(group: dict[str, Any]) -> str | None:
    """The pdr theme a CKAN group is: by its name, or by its title in the themes' Chinese labels."""
    named = themes_of([str(group.get("name") or "")])
    if named:
        return named[0]
    title = str(group.get("title") or group.get("display_name") or "").strip()
    return THEMES_BY_LABEL.get(title)


def _take_groups(package: dict[str, Any], values: dict[str, Any]) -> GroupTally:
    """Put the package's groups into the metadata: themes as themes, the others as keywords while they fit.

    Returns how many became themes, how many were kept as keywords and how many were dropped.
    """
    themes: list[str] = values["themes"]
    keywords: list[str] = values["keywords"]
    as_themes = kept = dropped = 0
    for group in _listed(package, "groups"):
        if not isinstance(group, dict):
            dropped += 1
            continue
        theme = _theme_of_group(group)
        if theme is not None:
            as_themes += 1
            themes.extend([theme] if theme not in themes else [])
            continue
        # The title is what people search for; the name is what is left when there is none.
        keyword = str(group.get("title") or group.get("display_name") or group.get("name") or "").strip()
        if keyword in keywords:
            kept += 1
        elif keyword and len(keyword) <= MAX_KEYWORD_LENGTH and len(keywords) < MAX_KEYWORDS:
            keywords.append(keyword)
            kept += 1
        else:
            dropped += 1
    return as_themes, kept, dropped


def _distribution(resource: dict[str, Any]) -> dict[str, Any]:
    """A CKAN resource as a distribution link; a resource without a valid http(s) URL refuses the record."""
    what = f"resource {resource.get('name') or resource.get('id') or '?'}"
    url = http_url(resource.get("url"), what)
    if url is None:
        raise RecordError(f"{what}: url is not http(s)")
    return {
        "name": str(resource.get("name") or url)[:300],
        "url": url[:2000],
        "format": normalise_format(resource.get("format") or resource.get("mimetype")),
        "media_type": (resource.get("mimetype") or None),
        "description": (str(resource.get("description"))[:4000] if resource.get("description") else None),
    }


def _parse_lines(first: int, lines: Sequence[str], dialect: str | None = None) -> list[ImportRecord | RecordError]:
    """Records of consecutive lines, tokenized for the index too, with their full-text entries for that engine
    when one is named."""
    parsed: list[ImportRecord | RecordError] = []
    for number, line in enumerate(lines, start=first):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            record = ckan_record(json.loads(line), where, checked=may_hold_controls(line))
        except json.JSONDecodeError as exc:
            parsed.append(RecordError(f"{where}: not JSON ({exc.msg})"))
            continue
        except RecordError as exc:
            parsed.append(RecordError(f"{where}: {exc}"))
            continue
        f = record.fields
        record.text = document_text(f.title, f.title_en, f.keywords, f.description)
        if dialect is not None:
            prebuild(record, dialect)
        parsed.append(record)
    return parsed


def _chunks_of_lines(path: Path, size: int) -> Iterator[tuple[int, list[str]]]:
    with path.open("r", encoding="utf-8") as lines:
        first, chunk = 1, []
        for number, line in enumerate(lines, start=1):
            chunk.append(line)
            if len(chunk) >= size:
                yield first, chunk
                first, chunk = number + 1, []
        if chunk:
            yield first, chunk


def _worker_started() -> None:
    """A parsing process collects garbage far less often: a chunk's records are all alive until they are sent."""
    gc.set_threshold(*LOAD_COLLECTIONS)


# Files smaller than this are parsed in the importing process: starting workers would cost more than it saves.
PARALLEL_FROM_BYTES = 8 << 20


def parse_workers(path: Path) -> int:
    """How many processes parse a CKAN file while the importing process writes: one a core.

    Parsing, validating, tokenizing and building rows cost more than writing them, so the importing process
    waits on the parsers more than they wait on it; one parser a core keeps every core busy.
    """
    if path.stat().st_size < PARALLEL_FROM_BYTES:
        return 0
    return max(1, os.cpu_count() or 1)


def read_ckan_lines(
    path: Path, workers: int | None = None, dialect: str | None = None
) -> Iterator[ImportRecord | RecordError]:
    """CKAN package dicts, one JSON object a line (``ckanapi dump datasets``), in file order.

    With workers, chunks of lines are parsed, validated and tokenized in other processes while the caller
    writes the previous ones; a few chunks are in flight at most, so memory stays flat. Given the engine
    (``dialect``), the records carry their rows' ids, JSON texts and full-text entries, built where they were
    parsed (``prebuild``).
    """
    chunks = _chunks_of_lines(path, 1000)
    workers = parse_workers(path) if workers is None else workers
    if workers <= 0:
        for first, lines in chunks:
            yield from _parse_lines(first, lines, dialect)
        return
    # forkserver: workers never inherit the importing process's threads, connections or locks.
    context = multiprocessing.get_context("forkserver")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_started)
    try:
        pending: deque[Future[list[ImportRecord | RecordError]]] = deque()
        for first, lines in chunks:
            pending.append(pool.submit(_parse_lines, first, lines, dialect))
            if len(pending) > 2 * workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        pool.shutdown(cancel_futures=True)
