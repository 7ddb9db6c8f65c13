"""Search at a worker's start: prepared ahead of the first request when the catalog holds datasets, left alone when
it is empty, so that an idle worker of an empty catalog carries neither the segmentation dictionary (tens of MB) nor
numpy and the mirror: the first dataset written or the first search brings them."""

from __future__ import annotations

import logging
import sys

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from storage.db import session_scope

log = logging.getLogger("pdr.search")

_ANY_DOCUMENT = text("SELECT 1 FROM dataset_search LIMIT 1")


def prepare_if_any(engine: Engine) -> None:
    """Prepare search (`catalog.search.sources.prepare`) when the catalog holds a document; otherwise do nothing."""
    try:
        with session_scope(engine, write=False) as session:
            if session.execute(_ANY_DOCUMENT).first() is None:
                return
    except SQLAlchemyError as exc:  # a database not migrated yet, say: the first search will build it
        log.warning("search mirror not prepared: %s", type(exc).__name__)
        return
    from catalog.search.sources import prepare

    prepare(engine)


def mirror_footprint(engine: Engine) -> tuple[int, int]:
    """The datasets and bytes of this process's search mirror of the engine; zeros until a search has built one.
    Asking loads nothing: a worker that never searched never imports the search engine."""
    if "catalog.search.mirror" not in sys.modules:
        return 0, 0
    from catalog.search.mirror import footprint_of

    found = footprint_of(engine)
    return (found.datasets, found.bytes) if found is not None else (0, 0)
