"""Keeping the object store tidy and honest: `pdr storage gc` and `pdr storage verify`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from catalog.datasets.models import DatasetFile
from catalog.files.service import is_referenced
from storage.db import now_of
from storage.objects import ObjectStore


@dataclass
class GcReport:
    """What `pdr storage gc` removed."""

    temporary: int = 0
    unreferenced: int = 0
    kept_recent: int = 0


def collect_garbage(session: Session, store: ObjectStore, *, temporary_age: timedelta, grace: timedelta) -> GcReport:
    """Remove stale temporary uploads and objects no file refers to; recent objects are kept for uploads under way."""
    now = now_of(session)
    report = GcReport(temporary=store.remove_stale_temporary(now - temporary_age))
    for info in store.iter_objects():
        if is_referenced(session, info.sha256):
            continue
        if info.modified > now - grace:
            report.kept_recent += 1
            continue
        # Checked again just before deleting: an upload may have recorded it while we listed.
        if not is_referenced(session, info.sha256):
            store.delete(info.sha256)
            report.unreferenced += 1
    return report


def verify_store(session: Session, store: ObjectStore) -> Iterator[tuple[str, str]]:
    """Every object re-hashed, and every file row checked for its object: yields (problem, sha256)."""
    for info in store.iter_objects():
        if not store.verify(info.sha256):
            yield "corrupt", info.sha256
    seen: set[str] = set()
    for sha256 in session.exec(select(DatasetFile.sha256).distinct()).all():
        if sha256 not in seen and store.stat(sha256) is None:
            yield "missing", sha256
        seen.add(sha256)
