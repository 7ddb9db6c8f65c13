"""FastAPI dependencies of the catalog's routers: the settings and the object store of the running app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from catalog.config import CatalogSettings
from storage.config import StorageSettings
from storage.db import SessionFactory
from storage.objects import ObjectStore


async def get_catalog_settings(request: Request) -> CatalogSettings:
    """The catalog settings of the running app."""
    settings: CatalogSettings = request.app.state.settings.catalog
    return settings


async def get_storage_settings(request: Request) -> StorageSettings:
    """The object store's settings of the running app."""
    settings: StorageSettings = request.app.state.settings.objects
    return settings


async def get_object_store(request: Request) -> ObjectStore:
    """The object store the app opened in its lifespan."""
    store: ObjectStore = request.app.state.object_store
    return store


async def get_session_factory(request: Request) -> SessionFactory:
    """What opens sessions of the app's own, for work that outlives the request's session (streamed records)."""
    open_session: SessionFactory = request.app.state.open_session
    return open_session


async def get_base_url(request: Request) -> str:
    """The public URL of the service, without a trailing slash."""
    return str(request.app.state.settings.base_url).rstrip("/")


CatalogConfig = Annotated[CatalogSettings, Depends(get_catalog_settings)]
StorageConfig = Annotated[StorageSettings, Depends(get_storage_settings)]
Store = Annotated[ObjectStore, Depends(get_object_store)]
Sessions = Annotated[SessionFactory, Depends(get_session_factory)]
BaseUrl = Annotated[str, Depends(get_base_url)]
