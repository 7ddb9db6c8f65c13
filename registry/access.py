"""Who may see and act on registry records: the rules in one place, so every route applies the same."""

from __future__ import annotations

from auth.caller import Caller
from auth.models import Role


def is_member(caller: Caller, entity_id: str) -> bool:
    """Whether the caller is a provider account of this entity."""
    return caller.has_role(Role.provider) and caller.entity_id == entity_id


def may_read_private(caller: Caller, entity_id: str) -> bool:
    """Members of the entity and the registry's staff see unpublished records and contact details."""
    return caller.is_staff or is_member(caller, entity_id)
