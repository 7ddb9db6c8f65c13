"""Operations endpoints: liveness, readiness and metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from sqlalchemy import text

from catalog.problems import problem
from storage import migrate
from storage.db import session_scope
from storage.exceptions import DomainError

router = APIRouter(tags=["operations"])
log = logging.getLogger("pdr.health")


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Alive: answers without touching any dependency."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(request: Request) -> dict[str, object] | Response:
    """Ready: the database answers at the current migration and the object store takes writes."""
    checks: dict[str, str] = {}
    engine = request.app.state.engine
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
        request.app.state.object_store.check_writable()
        checks["object_store"] = "ok"
    except DomainError:
        checks["object_store"] = "not writable"
    if all(value == "ok" for value in checks.values()):
        return {"status": "ready", "checks": checks}
    return problem(
        request,
        503,
        title="Not ready",
        slug="not-ready",
        detail="; ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok"),
        headers={"Retry-After": "5"},
        extra={"checks": checks},
    )


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text exposition."""
    return Response(request.app.state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
