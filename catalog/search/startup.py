"""Search at a worker's start: prepared ahead of the first request when the catalog holds datasets, left alone when
it is empty, so that an idle worker of an empty catalog carries neither the segmentation dictionary (tens of MB) nor
numpy and the mirror: the first dataset written or the first search brings them."""

from __future__ import annotations

import logging

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
