"""Bulk import of catalogs: CKAN package dicts as JSON lines, and DCAT in Turtle, JSON-LD or RDF/XML.

Idempotent by dataset name: a record whose name exists updates that dataset. Records are validated one by
one (a bad record is reported with its line number, or its IRI for DCAT, and skipped); valid ones are written
in batches, one transaction per batch, through SQLAlchemy Core rather than the ORM, which is what makes
thousands of datasets a second possible. CKAN records arrive from parsing processes with their rows' ids, JSON
texts and full-text entries already built; a large import into a nearly empty catalog builds the secondary
indexes after the load (``deferred``).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from auth import audit
from auth.caller import Caller
from catalog.interop import deferred
from catalog.interop.ckan.read import read_ckan_lines
from catalog.interop.dcat.read import read_dcat
from catalog.interop.records import (
    LOAD_COLLECTIONS,
    ImportRecord,
    ImportReport,
    RecordError,
)
from catalog.interop.writer import Publishers, write_batch
from storage.db import checkpoint, session_scope


def read_source(path: Path, dialect: str | None = None) -> Iterator[ImportRecord | RecordError]:
    """Records of a file, by its extension; given the engine, CKAN records carry their full-text entries."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".jl", ".ndjson", ".json"):
        return read_ckan_lines(path, dialect=dialect)
    formats = {".ttl": "turtle", ".jsonld": "json-ld", ".rdf": "xml", ".xml": "xml", ".nt": "nt"}
    if suffix in formats:
        return read_dcat(path, formats[suffix])
    raise RecordError(f"unknown file type {suffix or '(none)'}; use .jsonl (CKAN) or .ttl, .jsonld, .rdf (DCAT)")


class _Batches:
    """Records gathered into batches of one transaction each; a batch the database refuses is retried record
    by record, so that one bad record costs only itself."""

    def __init__(self, session: Session, publishers: Publishers, report: ImportReport, size: int) -> None:
        self.session = session
        self.publishers = publishers
        self.report = report
        self.size = size
        self.batch: list[ImportRecord] = []
        self.names: set[str] = set()
        self.statistics = _Statistics(report)

    def add(self, record: ImportRecord) -> int:
        """Add a record; returns how many records were written by the batches this closed."""
        written = 0
        if record.name in self.names:
            written += self.flush()  # the same name twice: the later record updates the earlier one
        self.batch.append(record)
        self.names.add(record.name)
        if len(self.batch) >= self.size:
            written += self.flush()
        return written

    def flush(self) -> int:
        """Write the open batch; returns its size."""
        if not self.batch:
            return 0
        report, session = self.report, self.session
        before = report.mark()
        try:
            write_batch(session, self.batch, self.publishers, report)
            session.commit()
        except Exception:
            # Something only the database could see (a constraint, say): find the record, keep the rest.
            session.rollback()
            report.rewind(before)
            _retry_one_by_one(session, self.batch, self.publishers, report)
        written = len(self.batch)
        self.batch.clear()
        self.names.clear()
        self.statistics.written(session)
        return written


def import_records(
    engine: Engine,
    records: Iterator[ImportRecord | RecordError],
    *,
    caller: Caller,
    publisher: str | None = None,
    org_map: Mapping[str, str] | None = None,
    batch_size: int = 1000,
    on_progress: Callable[[int], None] | None = None,
    source: str = "import",
    expected: int | None = None,
) -> ImportReport:
    """Write records in batches of one transaction each; bad records are reported, the rest go in.

    An organisation map whose entry names no entity refuses the whole import (a RecordError) before anything is
    written. When the source is known to hold many records (`expected`) and the catalog is nearly empty, the
    secondary indexes are set aside during the load and built after it.
    """
    started = time.perf_counter()
    # Indexes an import that died left set aside are built first.
    deferred.restore(engine)
    set_aside = expected is not None and expected >= DEFER_INDEXES_FROM and deferred.nearly_empty(engine, expected)
    if set_aside:
        deferred.set_aside(engine)
    try:
        with fewer_collections():
            report = _load(engine, records, caller, Loading(publisher, org_map, batch_size, on_progress, source))
    finally:
        if set_aside:
            deferred.restore(engine)
    # Copy what the import wrote into the SQLite file now, as part of the import's own time.
    checkpoint(engine)
    # Reading errors are known at once, the others at their batch's write: report them in file order.
    report.errors.sort(key=lambda error: _line_of(error[0]))
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Python's garbage collector run far less often, and never over what existed before, while a load runs.

    A load keeps each batch's tens of thousands of objects alive; at the default thresholds the collector runs
    every 700 allocations and walks them again and again, and the modules' and the ORM's objects with them: a
    fifth of the importing process's time. Nothing a load makes needs a collection to be freed.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*LOAD_COLLECTIONS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


# Imports of fewer records keep the indexes up to date as they go.
DEFER_INDEXES_FROM = 50_000


@dataclass(frozen=True)
class Loading:
    """How one import loads its records."""

    publisher: str | None
    org_map: Mapping[str, str] | None
    batch_size: int
    on_progress: Callable[[int], None] | None
    source: str


def _load(engine: Engine, records: Iterator[ImportRecord | RecordError], caller: Caller, how: Loading) -> ImportReport:
    """The records in batches, then the import's audit row."""
    report = ImportReport()
    progress = how.on_progress or (lambda _: None)
    with session_scope(engine) as session:
        publishers = Publishers(session, how.publisher, how.org_map)
        batches = _Batches(session, publishers, report, how.batch_size)
        for item in records:
            if isinstance(item, RecordError):
                report.errors.append(_split_where(str(item)))
                progress(1)
            elif written := batches.add(item):
                progress(written)
        progress(batches.flush())
        audit.record(session, caller, "catalog.import", how.source[:200])
        session.commit()
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
    session: Session, batch: Sequence[ImportRecord], publishers: Publishers, report: ImportReport
) -> None:
    """Write each record of a refused batch on its own; the ones the database refuses are reported."""
    for record in batch:
        before = report.mark()
        try:
            write_batch(session, [record], publishers, report)
            session.commit()
        except Exception as exc:
            session.rollback()
            report.rewind(before)
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
    org_map: Mapping[str, str] | None = None,
    batch_size: int = 1000,
    progress: bool = True,
) -> ImportReport:
    """Import a CKAN JSON-lines or DCAT file, with a progress bar on the terminal when asked."""
    total = _count_lines(path) if path.suffix.lower() in (".jsonl", ".jl", ".ndjson", ".json") else None
    run = partial(
        import_records,
        engine,
        read_source(path, engine.dialect.name),
        caller=caller,
        publisher=publisher,
        org_map=org_map,
        batch_size=batch_size,
        source=str(path),
        expected=total,
    )
    if not progress:
        return run()
    # Imported here: only a run on a terminal draws a progress bar.
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("[bold]importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("import", total=total)
        return run(on_progress=lambda n: bar.advance(task, n))


def _count_lines(path: Path) -> int:
    with path.open("rb") as raw:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: raw.read(1 << 20), b""))
