"""CKAN Action API compatibility: the actions harvesters and ckanapi clients use, over pdr's catalog.

Errors use CKAN's envelope and types, so that ``ckanapi`` raises its own NotFound, NotAuthorized and
ValidationError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.interop.ckan import read_actions, write_actions
from catalog.interop.ckan.errors import CkanError, from_domain
from catalog.interop.ckan.read_actions import Context
from storage.exceptions import DomainError

ACTIONS: dict[str, Callable[[Context, dict[str, Any]], Any]] = {
    "package_search": read_actions.package_search,
    "package_show": read_actions.package_show,
    "package_list": read_actions.package_list,
    "organization_list": read_actions.organization_list,
    "organization_show": read_actions.organization_show,
    "tag_list": read_actions.tag_list,
    "license_list": read_actions.license_list,
    "resource_show": read_actions.resource_show,
    "status_show": read_actions.status_show,
    "package_create": write_actions.package_create,
    "package_update": write_actions.package_update,
    "resource_create": write_actions.resource_create,
}
WRITES = frozenset({"package_create", "package_update", "resource_create"})


def run_action(ctx: Context, name: str, data: dict[str, Any]) -> Any:
    """Run one action; domain errors come back as CKAN errors."""
    action = ACTIONS.get(name)
    if action is None:
        raise CkanError("Bad Request", 400, f"Action name not known: {name}")
    try:
        return action(ctx, data)
    except DomainError as exc:
        ctx.session.rollback()
        raise from_domain(exc) from exc
