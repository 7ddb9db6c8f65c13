"""FastAPI dependencies of the registry: its settings and a session that knows the request's time."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from auth.dependencies import get_session
from registry.config import RegistrySettings
from registry.context import bind


async def get_registry_settings(request: Request) -> RegistrySettings:
    """The registry settings of the running app."""
    settings: RegistrySettings = request.app.state.settings.registry
    return settings


async def get_clocked_session(request: Request, session: Annotated[Session, Depends(get_session)]) -> Session:
    """The request's session, with the time of the request from the app's clock and the app's keys."""
    return bind(session, request.app.state.clock(), request.app.state.keyring)


RegistryConfig = Annotated[RegistrySettings, Depends(get_registry_settings)]
ClockedSession = Annotated[Session, Depends(get_clocked_session)]
