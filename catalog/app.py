"""The composition root: create_app(settings) wires every package into one FastAPI app."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from importlib.metadata import PackageNotFoundError, version

import anyio.to_thread
from fastapi import FastAPI
from sqlmodel import Session

from auth.router import router as auth_router
from catalog.datasets.router import router as catalog_router
from catalog.dataspace import request_mirror
from catalog.dataspace.monitor import PolicyMonitor
from catalog.dataspace.negotiations import Rules
from catalog.dataspace.router import negotiation_protocol_router
from catalog.dataspace.router import protocol_router as dataspace_protocol_router
from catalog.dataspace.router import router as dataspace_router
from catalog.dataspace.service_router import router as service_router
from catalog.dataspace.transfer_router import router as transfer_router
from catalog.dataspace.transfer_router import transfer_protocol_router
from catalog.exchange import request_events
from catalog.exchange.router import router as exchange_router
from catalog.files.limits import UploadSlots
from catalog.files.router import router as payloads_router
from catalog.interop.ckan.router import router as ckan_router
from catalog.interop.dcat.router import router as dcat_router
from catalog.portal.render import Renderer
from catalog.portal.router import router as portal_router
from catalog.search.startup import mirror_footprint
from catalog.search.startup import prepare_if_any as prepare_search
from catalog.settings import Settings
from catalog.web.docs import router as docs_router
from catalog.web.edge import EdgeMiddleware
from catalog.web.health import Drain
from catalog.web.metrics import Metrics
from catalog.web.middleware import RequestMiddleware
from catalog.web.openapi import install_openapi
from catalog.web.problems import install_problem_handlers
from catalog.web.router import router as health_router
from registry.certificates_router import router as certificate_router
from registry.context import with_issuer_name, with_keyring
from registry.entities_router import router as entities_router
from registry.log_router import router as log_router
from registry.registrations_router import router as registrations_router
from registry.subjects_router import router as subjects_router
from storage.db import make_engine, new_session
from storage.types import utcnow

log = logging.getLogger("pdr.app")

# How long shutting down waits for the search mirror's start-up build to finish.
WARM_UP_SHUTDOWN_SECONDS = 30.0

# Upload routes stream bodies of any size and enforce their own limit.
STREAMING_PATHS = re.compile(r"^/api/v1/datasets/[^/]+/files/?$")


def _version() -> str:
    try:
        return version("public-data-registry")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"


def _open_session(app: FastAPI, *, write: bool = True) -> Session:
    """A session on the app's database with the app's clock, its signing keys and the name it issues under."""
    state = app.state
    session = with_keyring(new_session(state.engine, write=write, clock=state.clock), state.keyring)
    return with_issuer_name(session, state.issuer_name)


ROUTERS = (
    # First: FastAPI tries the routers in turn for every request, and the signed-in caller's own routes (/me above
    # all, which clients call to check a token) are the cheapest ones pdr serves, so a router's turn is felt most.
    auth_router,
    health_router,
    docs_router,
    entities_router,
    subjects_router,
    registrations_router,
    catalog_router,
    dcat_router,
    ckan_router,
    log_router,
    payloads_router,
    certificate_router,
    # Before the exchange's: /listings/{id}/offers and .../service/... are the data space's, not listing actions.
    dataspace_router,
    service_router,
    exchange_router,
    dataspace_protocol_router,
    negotiation_protocol_router,
    transfer_router,
    transfer_protocol_router,
    portal_router,
)


def _lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """What the app opens when it starts and closes when it stops: the database, the object store, the keys."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.db)
        store = settings.objects.open_store()
        if settings.objects.storage_url.startswith("file:"):
            # A local folder that cannot be written is a set-up mistake: say so now, not on the first upload.
            store.check_writable()
        app.state.engine = engine
        app.state.object_store = store
        app.state.keyring = settings.keyring()
        warm_up = None
        if settings.catalog.search_warm_up:
            warm_up = threading.Thread(target=prepare_search, args=(engine,), name="pdr-search-warm-up", daemon=True)
            warm_up.start()
        app.state.drain.install()
        monitor = PolicyMonitor(app.state.open_session, settings.catalog.transfer_monitor_seconds)
        monitor.start()
        try:
            yield
        finally:
            app.state.metrics.process_exited()
            await anyio.to_thread.run_sync(monitor.stop)
            if warm_up is not None:
                # A build still reading when the database goes away would hold its locks against whoever comes
                # next (a migration, a test emptying its schema); it takes seconds at a million datasets.
                await anyio.to_thread.run_sync(warm_up.join, WARM_UP_SHUTDOWN_SECONDS)
            engine.dispose()

    return lifespan


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; its lifespan opens the database and the object store."""
    settings = settings or Settings()
    settings.check()
    # /docs is catalog/web/docs.py (Swagger UI from the installed package); ReDoc would load from a CDN.
    app = FastAPI(
        title="pdr: public data registry",
        version=_version(),
        lifespan=_lifespan(settings),
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.issuer_name = settings.issuer()
    # Every use case reads the time from here, through its session, so tests can move it across holidays and
    # notices.
    app.state.clock = utcnow
    app.state.open_session = partial(_open_session, app)
    app.state.metrics = Metrics()
    # /metrics reports this worker's search mirror (datasets, bytes) through it.
    app.state.mirror_footprint = mirror_footprint
    app.state.drain = Drain(settings.shutdown_drain_seconds)
    # Uploads in progress in this process, bounded in total and per account (catalog/files/limits.py).
    app.state.upload_slots = UploadSlots()
    # The portal's templates; each language's messages are compiled from their .po files on its first page.
    app.state.portal = Renderer()
    # Every access request for a dataset is mirrored as a contract negotiation, in the request's transaction.
    rules = Rules(base_url=str(settings.base_url).rstrip("/"))
    request_events.listen("dataspace", partial(request_mirror.mirror, rules=rules))
    install_problem_handlers(app)
    install_openapi(app)
    # Added first, so it runs inside the request middleware: its answers get the request id, and bodies it reads
    # are already bounded.
    app.add_middleware(EdgeMiddleware, streaming_paths=STREAMING_PATHS)
    app.add_middleware(
        RequestMiddleware,
        metrics=app.state.metrics,
        max_body_bytes=settings.max_request_body_bytes,
        streaming_paths=STREAMING_PATHS,
    )
    # In this order: a route matches the first router that has it.
    for router in ROUTERS:
        app.include_router(router)
    return app
