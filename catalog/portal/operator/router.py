"""The operator console's routes."""

from __future__ import annotations

from fastapi import APIRouter

from catalog.portal.dependencies import PortalRoute

router = APIRouter(include_in_schema=False, route_class=PortalRoute)
