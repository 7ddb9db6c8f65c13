"""CKAN Action API compatibility: the actions harvesters and ckanapi clients use, over pdr's catalog.

Errors use CKAN's envelope and types, so that ``ckanapi`` raises its own NotFound, NotAuthorized and
ValidationError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.interop.ckan import reads, writes
from catalog.interop.ckan.errors import CkanError, from_domain
from catalog.interop.ckan.reads import Context
from storage.exceptions import DomainError

ACTIONS: dict[str, Callable[[Context, dict[str, Any]], Any]] = {
    "package_search": reads.package_search,
    "package_show": reads.package_show,
    "package_list": reads.package_list,
    "organization_list": reads.organization_list,
    "organization_show": reads.organization_show,
    "tag_list": reads.tag_list,
    "license_list": reads.license_list,
    "resource_show": reads.resource_show,
    "status_show": reads.status_show,
    "package_create": writes.package_create,
    "package_update": writes.package_update,
    "resource_create": writes.resource_create,
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
