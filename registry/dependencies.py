"""FastAPI dependencies of the registry: its settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from registry.config import RegistrySettings


async def get_registry_settings(request: Request) -> RegistrySettings:
    """The registry settings of the running app."""
    settings: RegistrySettings = request.app.state.settings.registry
    return settings


RegistryConfig = Annotated[RegistrySettings, Depends(get_registry_settings)]
