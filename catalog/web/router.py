"""Operations endpoints: liveness, readiness and metrics."""

from __future__ import annotations

import sys

from fastapi import APIRouter, Request, Response

from catalog.web.health import readiness
from catalog.web.problems import problem

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Alive: answers without touching any dependency."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(request: Request) -> dict[str, object] | Response:
    """Ready: the database answers at the current migration, the keys open, and the object store takes writes."""
    state = request.app.state
    if state.drain.draining:
        # Shutting down: requests in flight finish, new ones belong on another process.
        checks = {"shutdown": "in progress"}
    else:
        checks = readiness(state.engine, state.object_store, state.keyring)
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
    """Prometheus text exposition, with this worker's search mirror as it stands now."""
    state = request.app.state
    datasets = held = 0
    # Looked up only once a search has loaded the engine: a worker that never searched holds no mirror (nor numpy).
    if "catalog.search.mirror" in sys.modules:
        from catalog.search.mirror import footprint_of

        if (footprint := footprint_of(state.engine)) is not None:
            datasets, held = footprint.datasets, footprint.bytes
    state.metrics.mirror(datasets, held)
    return Response(state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
