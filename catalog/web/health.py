"""Readiness: whether the database answers at the current migration and the object store takes writes."""

from __future__ import annotations

import logging

from sqlalchemy import Engine, text

from storage import migrate
from storage.db import session_scope
from storage.exceptions import DomainError
from storage.objects import ObjectStore

log = logging.getLogger("pdr.health")


def readiness(engine: Engine, store: ObjectStore) -> dict[str, str]:
    """Each dependency's state: "ok", or what is wrong with it in words an operator can act on."""
    checks: dict[str, str] = {}
    try:
        with session_scope(engine, write=False) as session:
            session.connection().execute(text("SELECT 1"))
        checks["database"] = "ok"
        checks["migrations"] = "ok" if migrate.is_current(engine) else "behind: run `pdr db upgrade`"
    except Exception:  # any driver error means "not ready"; the log has the details, the client does not
        log.exception("readiness: database check failed")
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
    try:
        store.check_writable()
        checks["object_store"] = "ok"
    except DomainError:
        checks["object_store"] = "not writable"
    return checks
