"""Readiness: whether the database answers at the current migration, the signing keys open, and the object store
takes writes."""

from __future__ import annotations

import logging

from sqlalchemy import Engine, text

from registry import keys
from storage import migrate
from storage.db import error_summary, session_scope
from storage.exceptions import DomainError
from storage.objects import ObjectStore

log = logging.getLogger("pdr.health")


def readiness(engine: Engine, store: ObjectStore, keyring: keys.KeyRing) -> dict[str, str]:
    """Each dependency's state: "ok", or what is wrong with it in words an operator can act on."""
    checks: dict[str, str] = {}
    key_state = "unknown"
    try:
        with session_scope(engine, write=False) as session:
            session.connection().execute(text("SELECT 1"))
            checks["database"] = "ok"
            checks["migrations"] = "ok" if migrate.is_current(engine) else "behind: run `pdr init`"
            if checks["migrations"] == "ok":
                key_state = keys.readiness(session, keyring)
    except Exception as error:  # any driver error means "not ready"; the log has its kind, the client nothing
        log.warning("readiness: database check failed: %s", error_summary(error))
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
    # Production signs only with encrypted keys, so it always reports them. In development the answer keeps its
    # three checks unless the keys fail (missing, or not opening), which would make issuing answer 503.
    if keyring.require_encrypted or key_state not in ("ok", "unknown"):
        checks["keys"] = key_state
    try:
        store.check_writable()
        checks["object_store"] = "ok"
    except DomainError:
        checks["object_store"] = "not writable"
    return checks
