"""Operations endpoints: liveness, readiness and metrics."""

from __future__ import annotations

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
    # Set by the composition root: the web layer does not reach into search.
    state.metrics.mirror(*state.mirror_footprint(state.engine))
    return Response(state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
