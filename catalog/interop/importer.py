"""Bulk import of catalogs: CKAN package dicts as JSON lines, and DCAT in Turtle, JSON-LD or RDF/XML.

Idempotent by dataset name: a record whose name exists updates that dataset. Records are validated one by
one (a bad record is reported with its line number, or its IRI for DCAT, and skipped); valid ones are written
in batches, one transaction per batch, through SQLAlchemy Core rather than the ORM, which is what makes
thousands of datasets a second possible.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, bindparam, text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from auth import audit
from auth.caller import Caller
from catalog import search
from catalog.datasets import DatasetState, year_span
from catalog.models import Dataset, DatasetDistribution, DatasetVersion
from catalog.schemas import NAME_PATTERN, DatasetFields
from registry.enums import EntityStatus, Openness, SubjectStatus, Theme, UpdateCycle
from storage.db import checkpoint, session_scope
from storage.ids import new_id
from storage.statements import expanding
from storage.types import utcnow

_NAME = re.compile(NAME_PATTERN)
_URL = re.compile(r"^https?://\S+$")
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
_ACCESS_RIGHTS = {
    "public": Openness.unconditional,
    "restricted": Openness.conditional,
    "non_public": Openness.not_open,
}


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
    text: search.DocumentText | None = None

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
    text = None if joined is None else search.DocumentText(*(part.split() for part in joined))
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


# ---------------------------------------------------------------- reading the sources


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _parse_date(value: Any) -> date | None:
    if not value:
        return None
    raw = str(value).strip()
    if re.fullmatch(r"\d{4}", raw):
        return date(int(raw), 1, 1)
    try:
        return date.fromisoformat(raw[:10])
    except ValueError as exc:
        raise RecordError(f"not a date: {raw!r}") from exc


def _validation_message(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in exc.errors())


_THEMES = frozenset(t.value for t in Theme)


def _themes(values: Sequence[str]) -> list[str]:
    found = []
    for value in values:
        key = str(value).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        if key in _THEMES:
            found.append(key)
    return list(dict.fromkeys(found))


def ckan_record(package: dict[str, Any], where: str) -> ImportRecord:
    """Map one CKAN package dict to an import record."""
    if not isinstance(package, dict):
        raise RecordError("a line must hold one JSON object (a CKAN package)")
    extras = {
        str(e.get("key")): e.get("value")
        for e in package.get("extras") or []
        if isinstance(e, dict) and e.get("key") is not None
    }
    name = str(package.get("name") or "").strip().lower()
    if not _NAME.match(name):
        raise RecordError(f"name {name!r} is not a CKAN name (2-100 of a-z, 0-9, - and _)")
    organization = package.get("organization") or {}
    publisher = package.get("owner_org") or (organization.get("name") if isinstance(organization, dict) else None)
    keywords = [str(t.get("name")) for t in package.get("tags") or [] if isinstance(t, dict) and t.get("name")]
    groups = [str(g.get("name")) for g in package.get("groups") or [] if isinstance(g, dict) and g.get("name")]
    themes_extra = extras.get("themes") or extras.get("theme") or ""
    if isinstance(themes_extra, str):
        themes_extra = [t for t in re.split(r"[,\s]+", themes_extra) if t]
    access = str(extras.get("access") or extras.get("access_level") or "")
    if not access:
        access = Openness.not_open.value if package.get("private") else Openness.unconditional.value
    raw = {
        "title": package.get("title") or name,
        "title_en": extras.get("title_en"),
        "description": package.get("notes") or "",
        "keywords": keywords,
        "themes": _themes([*groups, *themes_extra]),
        "licence": package.get("license_id") or None,
        "access": access,
        "temporal_start": _parse_date(extras.get("temporal_start")),
        "temporal_end": _parse_date(extras.get("temporal_end")),
        "spatial": extras.get("spatial_text") or extras.get("spatial") or None,
        "update_frequency": _FREQUENCIES.get(str(extras.get("frequency") or "").lower()),
        "landing_page": package.get("url") if _URL.match(str(package.get("url") or "")) else None,
    }
    try:
        fields = DatasetFields.model_validate(raw)
    except ValidationError as exc:
        raise RecordError(_validation_message(exc)) from exc
    state = {"active": DatasetState.published, "draft": DatasetState.draft, "deleted": DatasetState.withdrawn}
    distributions = []
    for resource in package.get("resources") or []:
        if not isinstance(resource, dict):
            continue
        url = str(resource.get("url") or "").strip()
        if not _URL.match(url):
            raise RecordError(f"resource {resource.get('name') or resource.get('id') or '?'}: url is not http(s)")
        distributions.append(
            {
                "name": str(resource.get("name") or url)[:300],
                "url": url[:2000],
                "format": search.normalise_format(resource.get("format") or resource.get("mimetype")),
                "media_type": (resource.get("mimetype") or None),
                "description": (str(resource.get("description"))[:4000] if resource.get("description") else None),
            }
        )
    return ImportRecord(
        where=where,
        name=name,
        fields=fields,
        publisher=str(publisher) if publisher else None,
        state=state.get(str(package.get("state") or "active"), DatasetState.published),
        distributions=distributions,
        modified_at=_parse_time(package.get("metadata_modified")),
        issued_at=_parse_time(package.get("metadata_created")),
        extras={k: v for k, v in extras.items() if isinstance(v, str | int | float | bool)},
        resource_code=str(extras["resource_code"]) if extras.get("resource_code") else None,
    )


def _parse_lines(first: int, lines: Sequence[str]) -> list[ImportRecord | RecordError]:
    """Records of consecutive lines, tokenized for the index too."""
    parsed: list[ImportRecord | RecordError] = []
    for number, line in enumerate(lines, start=first):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            record = ckan_record(json.loads(line), where)
        except json.JSONDecodeError as exc:
            parsed.append(RecordError(f"{where}: not JSON ({exc.msg})"))
            continue
        except RecordError as exc:
            parsed.append(RecordError(f"{where}: {exc}"))
            continue
        f = record.fields
        record.text = search.document_text(f.title, f.title_en, f.keywords, f.description)
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


# Files smaller than this are parsed in the importing process: starting workers would cost more than it saves.
PARALLEL_FROM_BYTES = 8 << 20


def parse_workers(path: Path) -> int:
    """How many processes parse a CKAN file while the importing process writes: all but one core."""
    if path.stat().st_size < PARALLEL_FROM_BYTES:
        return 0
    return max(1, (os.cpu_count() or 1) - 1)


def read_ckan_lines(path: Path, workers: int | None = None) -> Iterator[ImportRecord | RecordError]:
    """CKAN package dicts, one JSON object a line (``ckanapi dump datasets``), in file order.

    With workers, chunks of lines are parsed, validated and tokenized in other processes while the caller
    writes the previous ones; a few chunks are in flight at most, so memory stays flat.
    """
    chunks = _chunks_of_lines(path, 1000)
    workers = parse_workers(path) if workers is None else workers
    if workers <= 0:
        for first, lines in chunks:
            yield from _parse_lines(first, lines)
        return
    # forkserver: workers never inherit the importing process's threads, connections or locks.
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))
    try:
        pending: deque[Future[list[ImportRecord | RecordError]]] = deque()
        for first, lines in chunks:
            pending.append(pool.submit(_parse_lines, first, lines))
            if len(pending) > 2 * workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        pool.shutdown(cancel_futures=True)


def read_dcat(path: Path, rdf_format: str) -> Iterator[ImportRecord | RecordError]:
    """The dcat:Dataset resources of an RDF file."""
    from rdflib import Graph

    from catalog.dcat import dcat_records

    graph = Graph()
    try:
        graph.parse(path, format=rdf_format)
    except Exception as exc:  # rdflib raises many parser types; any of them means the file is unreadable
        yield RecordError(f"{path.name}: cannot be parsed as {rdf_format} ({exc})")
        return
    yield from dcat_records(graph)


def read_source(path: Path) -> Iterator[ImportRecord | RecordError]:
    """Records of a file, by its extension."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".jl", ".ndjson", ".json"):
        return read_ckan_lines(path)
    formats = {".ttl": "turtle", ".jsonld": "json-ld", ".rdf": "xml", ".xml": "xml", ".nt": "nt"}
    if suffix in formats:
        return read_dcat(path, formats[suffix])
    raise RecordError(f"unknown file type {suffix or '(none)'}; use .jsonl (CKAN) or .ttl, .jsonld, .rdf (DCAT)")


# ---------------------------------------------------------------- writing


class _Entities:
    """Organisation names resolved to entity ids, once per run."""

    def __init__(self, connection: Connection, override: str | None) -> None:
        self.connection = connection
        self.override = override
        self.cache: dict[str, str | None] = {}

    def resolve(self, reference: str | None) -> str:
        key = self.override or reference
        if not key:
            raise RecordError("no publisher: the record names no organization; pass --publisher ENTITY_ID")
        if key not in self.cache:
            row = self.connection.execute(
                text("SELECT id, status FROM entity WHERE id = :k OR uscc = :u OR name = :k"),
                {"k": key, "u": key.upper()},
            ).first()
            self.cache[key] = str(row[0]) if row is not None and row[1] != EntityStatus.suspended else None
        found = self.cache[key]
        if found is None:
            raise RecordError(f"unknown or suspended publisher {key!r}")
        return found


def _resource_of(connection: Connection, code: str, entity_id: str) -> tuple[str, str, bool]:
    row = connection.execute(
        text("SELECT id, open_attribute, status, entity_id FROM data_resource WHERE code = :c"), {"c": code}
    ).first()
    if row is None or row[3] != entity_id:
        raise RecordError(f"resource_code {code}: no such resource of the publisher")
    return str(row[0]), str(row[1]), row[2] == SubjectStatus.registered


def write_batch(session: Session, records: Sequence[ImportRecord], entities: _Entities, report: ImportReport) -> None:
    """Create or update one batch of datasets in the session's transaction (the caller commits)."""
    connection = session.connection()
    now = utcnow()
    existing = {
        str(name): (str(dataset_id), int(version))
        for name, dataset_id, version in connection.execute(
            expanding("SELECT name, id, version FROM dataset WHERE name IN :names", "names"),
            {"names": [r.name for r in records]},
        )
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    distributions: list[dict[str, Any]] = []
    docs: list[search.SearchDoc] = []
    replaced: list[tuple[str, int]] = []
    for record in records:
        try:
            entity_id = entities.resolve(record.publisher)
            link = _resource_of(connection, record.resource_code, entity_id) if record.resource_code else None
        except RecordError as exc:
            report.errors.append((record.where, str(exc)))
            continue
        f = record.fields
        known = existing.get(record.name)
        dataset_id, version = known if known else (new_id(), 1)
        modified = record.modified_at or now
        row: dict[str, Any] = {
            "id": dataset_id,
            "name": record.name,
            "title": f.title,
            "title_en": f.title_en,
            "description": f.description,
            "keywords": list(f.keywords),
            "themes": [t.value for t in f.themes],
            "entity_id": entity_id,
            "licence": f.licence,
            "access": f.access.value,
            "temporal_start": f.temporal_start,
            "temporal_end": f.temporal_end,
            "spatial": f.spatial,
            "update_frequency": f.update_frequency.value if f.update_frequency else None,
            "resource_id": link[0] if link else None,
            "landing_page": f.landing_page,
            "state": record.state,
            "version": version,
            "extras": record.extras,
            "issued_at": (record.issued_at or modified) if record.state == DatasetState.published else None,
            "modified_at": modified,
            "created_by": None,
            "created_at": now,
            "updated_at": now,
        }
        if known:
            updates.append(row)
            replaced.append((dataset_id, version))
            report.updated += 1
        else:
            inserts.append(row)
            published = record.state == DatasetState.published
            versions.append(
                {
                    "id": new_id(),
                    "dataset_id": dataset_id,
                    "version": 1,
                    "state": DatasetState.published if published else DatasetState.draft,
                    "notes": None,
                    "created_at": now,
                    "published_at": now if published else None,
                }
            )
            report.created += 1
        for d in record.distributions:
            distributions.append({"id": new_id(), "dataset_id": dataset_id, "version": version, "created_at": now, **d})
        year_start, year_end = year_span(f.temporal_start, f.temporal_end)
        docs.append(
            search.SearchDoc(
                dataset_id=dataset_id,
                entity_id=entity_id,
                state=record.state,
                access=link[1] if link else f.access.value,
                registered=bool(link and link[2]),
                licence=f.licence,
                themes=row["themes"],
                formats=sorted({d["format"] for d in record.distributions if d["format"]}),
                year_start=year_start,
                year_end=year_end,
                title=f.title,
                title_en=f.title_en,
                keywords=row["keywords"],
                description=f.description,
                modified_at=modified,
                text=record.text,
            )
        )
    if inserts:
        search.bulk_insert(connection, Dataset.__table__, inserts)  # type: ignore[attr-defined]
        search.bulk_insert(connection, DatasetVersion.__table__, versions)  # type: ignore[attr-defined]
    if updates:
        connection.execute(
            text(
                "UPDATE dataset SET title = :title, title_en = :title_en, description = :description, "
                "keywords = :keywords, themes = :themes, entity_id = :entity_id, licence = :licence, "
                "access = :access, temporal_start = :temporal_start, temporal_end = :temporal_end, "
                "spatial = :spatial, update_frequency = :update_frequency, resource_id = :resource_id, "
                "landing_page = :landing_page, state = :state, extras = :extras, modified_at = :modified_at, "
                "updated_at = :updated_at WHERE id = :id"
            ).bindparams(*_json_binds(), *_time_binds()),
            [
                {k: v for k, v in row.items() if k not in ("name", "version", "issued_at", "created_by", "created_at")}
                for row in updates
            ],
        )
        # The import describes the newest version's links in full: they replace what was there.
        connection.execute(
            text("DELETE FROM dataset_distribution WHERE dataset_id = :d AND version = :v"),
            [{"d": d, "v": v} for d, v in replaced],
        )
    if distributions:
        search.bulk_insert(connection, DatasetDistribution.__table__, distributions)  # type: ignore[attr-defined]
    search.index_documents(session, docs)


def _json_binds() -> list[Any]:
    from sqlalchemy import JSON

    return [bindparam(name, type_=JSON) for name in ("keywords", "themes", "extras")]


def _time_binds() -> list[Any]:

    from storage.types import UTCDateTime

    return [bindparam(name, type_=UTCDateTime) for name in ("modified_at", "updated_at")]


def import_records(
    engine: Engine,
    records: Iterator[ImportRecord | RecordError],
    *,
    caller: Caller,
    publisher: str | None = None,
    batch_size: int = 1000,
    on_progress: Callable[[int], None] | None = None,
    source: str = "import",
) -> ImportReport:
    """Write records in batches of one transaction each; bad records are reported, the rest go in."""
    import time

    started = time.perf_counter()
    report = ImportReport()
    with session_scope(engine) as session:
        entities = _Entities(session.connection(), publisher)
        batch: list[ImportRecord] = []
        names: set[str] = set()
        growth = _Statistics(report)

        def flush() -> None:
            if not batch:
                return
            before = (report.created, report.updated, len(report.errors))
            try:
                write_batch(session, batch, entities, report)
                session.commit()
            except Exception:
                # Something only the database could see (a constraint, say): find the record, keep the rest.
                session.rollback()
                report.created, report.updated = before[0], before[1]
                del report.errors[before[2] :]
                _retry_one_by_one(session, batch, entities, report)
            if on_progress:
                on_progress(len(batch))
            batch.clear()
            names.clear()
            growth.written(session)

        for item in records:
            if isinstance(item, RecordError):
                report.errors.append(_split_where(str(item)))
                if on_progress:
                    on_progress(1)
                continue
            if item.name in names:
                flush()  # the same name twice: the later record updates the earlier one
            batch.append(item)
            names.add(item.name)
            if len(batch) >= batch_size:
                flush()
        flush()
        audit.record(session, caller, "catalog.import", source[:200])
        session.commit()
    # Copy what the import wrote into the SQLite file now, as part of the import's own time.
    checkpoint(engine)
    # Reading errors are known at once, the others at their batch's write: report them in file order.
    report.errors.sort(key=lambda error: _line_of(error[0]))
    report.seconds = time.perf_counter() - started
    return report


class _Statistics:
    """Refresh PostgreSQL's planner statistics each time an import has doubled what it wrote.

    Without them a table that grew from nothing still looks tiny to the planner, which then scans it whole to
    look up a batch's names and documents: fine at a thousand rows, minutes at a million. Autovacuum would catch
    up eventually, when it is on and gets to it; an import cannot wait for that.
    """

    TABLES = "dataset, dataset_version, dataset_distribution, dataset_search, dataset_tag, dataset_fts"

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.next_at = 1000

    def written(self, session: Session) -> None:
        """Analyze the catalog's tables if the import passed its next doubling."""
        done = self.report.created + self.report.updated
        if done < self.next_at or session.connection().dialect.name != "postgresql":
            return
        self.next_at = done * 2
        session.connection().exec_driver_sql(f"ANALYZE {self.TABLES}")
        session.commit()


def _retry_one_by_one(
    session: Session, batch: Sequence[ImportRecord], entities: _Entities, report: ImportReport
) -> None:
    for record in batch:
        created, updated, errors = report.created, report.updated, len(report.errors)
        try:
            write_batch(session, [record], entities, report)
            session.commit()
        except Exception as exc:
            session.rollback()
            report.created, report.updated = created, updated
            del report.errors[errors:]
            report.errors.append((record.where, f"refused by the database: {type(exc).__name__}"))


def _line_of(where: str) -> float:
    number = where.removeprefix("line ")
    return int(number) if number.isdigit() else float("inf")


def _split_where(message: str) -> tuple[str, str]:
    where, _, rest = message.partition(": ")
    return (where, rest) if rest else ("file", message)


def import_file(
    engine: Engine,
    path: Path,
    *,
    caller: Caller,
    publisher: str | None = None,
    batch_size: int = 1000,
    progress: bool = True,
) -> ImportReport:
    """Import a CKAN JSON-lines or DCAT file, with a progress bar on the terminal when asked."""
    records = read_source(path)
    if not progress:
        return import_records(
            engine, records, caller=caller, publisher=publisher, batch_size=batch_size, source=str(path)
        )
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    total = _count_lines(path) if path.suffix.lower() in (".jsonl", ".jl", ".ndjson", ".json") else None
    columns = (TextColumn("[bold]importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("import", total=total)
        return import_records(
            engine,
            records,
            caller=caller,
            publisher=publisher,
            batch_size=batch_size,
            on_progress=lambda n: bar.advance(task, n),
            source=str(path),
        )


def _count_lines(path: Path) -> int:
    with path.open("rb") as raw:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: raw.read(1 << 20), b""))
